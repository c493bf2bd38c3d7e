//! Manual pages, rendered by groff as `man` renders them: no warnings, one
//! page per command, and the sections a reader looks for.

use std::path::Path;
use std::process::Command;

use crate::support::{Test, run_in, skip};

/// The page as a terminal shows it (plain ASCII), and groff's warnings.
fn groff(page: &Path) -> Option<(String, String)> {
    let out = Command::new("groff")
        .args(["-man", "-Tascii", "-ww", "-P", "-cbou"])
        .arg(page)
        .output();
    match out {
        Ok(out) => {
            assert!(out.status.success(), "groff failed on {}", page.display());
            Some((
                String::from_utf8(out.stdout).unwrap(),
                String::from_utf8(out.stderr).unwrap(),
            ))
        }
        Err(_) => {
            skip("manual::groff", "groff is not installed", "REQUIRE_GROFF");
            None
        }
    }
}

/// groff breaks words at line ends; the checks read the text as one line.
fn flat(text: &str) -> String {
    text.replace("-\n", "-")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn man_dir_writes_one_page_per_command_and_groff_renders_each_without_warnings() {
    let test = Test::new();
    let out = run_in(
        test.path(),
        &["man".into(), "--dir".into(), ".".into()],
        &[],
        None,
    );
    let listed: Vec<&str> = out.success().lines().collect();
    let mut files: Vec<String> = std::fs::read_dir(test.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "argocd-tailscale-plugin-check.1",
            "argocd-tailscale-plugin-completions.1",
            "argocd-tailscale-plugin-diff.1",
            "argocd-tailscale-plugin-generate.1",
            "argocd-tailscale-plugin-ignore-differences.1",
            "argocd-tailscale-plugin-man.1",
            "argocd-tailscale-plugin-parameters.1",
            "argocd-tailscale-plugin-schema.1",
            "argocd-tailscale-plugin.1",
        ]
    );
    assert_eq!(listed.len(), files.len());
    for file in &files {
        let Some((text, warnings)) = groff(&test.path().join(file)) else {
            return;
        };
        assert_eq!(warnings, "", "{file}");
        let text = flat(&text);
        for section in [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "EXIT STATUS",
            "EXAMPLES",
            "SEE ALSO",
        ] {
            assert!(text.contains(section), "{file} lacks {section}");
        }
        // Every page it refers to exists.
        let see_also = &text[text.find("SEE ALSO").unwrap()..text.find("The README").unwrap()];
        for word in see_also.split(|c: char| c.is_whitespace() || c == ',') {
            if let Some(name) = word
                .strip_suffix("(1)")
                .filter(|w| w.starts_with("argocd-"))
            {
                assert!(
                    files.contains(&format!("{name}.1")),
                    "{file} refers to {name}(1)"
                );
            }
        }
    }
}

#[test]
fn man_generate_documents_the_environment_and_man_diff_the_exit_status() {
    let test = Test::new();
    let page = |command: &str| {
        let out = run_in(test.path(), &["man".into(), command.into()], &[], None);
        let path = test.path().join(format!("{command}.1"));
        std::fs::write(&path, out.success()).unwrap();
        groff(&path).map(|(text, _)| flat(&text))
    };
    let Some(generate) = page("generate") else {
        return;
    };
    let environment = &generate[generate.find("ENVIRONMENT").expect("ENVIRONMENT")..];
    for variable in [
        "ARGOCD_APP_PARAMETERS",
        "PARAM_<NAME>",
        "ARGOCD_ENV_<NAME>",
        "ARGOCD_APP_NAMESPACE",
        "ARGOCD_APP_SOURCE_PATH",
        "HELM_BINARY",
        "TAILSCALE_PLUGIN_ALLOWED_CHARTS",
        "TAILSCALE_PLUGIN_MAX_RUN_BYTES",
    ] {
        assert!(
            environment.contains(variable),
            "man generate lacks {variable}"
        );
    }
    assert!(generate.contains("--upstream"), "options are documented");
    let diff = page("diff").unwrap();
    assert!(
        diff.contains("EXIT STATUS 0 No differences. 1 Differences were found"),
        "{diff}"
    );
    let check = page("check").unwrap();
    assert!(check.contains("1 At least one error finding"), "{check}");
    let unknown = run_in(test.path(), &["man".into(), "nope".into()], &[], None);
    assert!(unknown.failure().contains("pages: generate"));
}
