//! Completion scripts, driven through the real shells: bash's completion
//! function is called as bash calls it on <TAB>, with `COMP_WORDS` and
//! `COMP_CWORD` set, and what it offers is compared.

use std::path::Path;
use std::process::Command;

use crate::support::{Test, repo_root, run_in};

/// What bash's completion function for the plugin offers for `line`, the
/// words typed so far (the last one is the word being completed), run in
/// `cwd`.
fn bash_offers(script: &Path, cwd: &Path, line: &[&str]) -> Vec<String> {
    let words: Vec<String> = std::iter::once("argocd-tailscale-plugin")
        .chain(line.iter().copied())
        .map(|w| format!("'{w}'"))
        .collect();
    let program = format!(
        r#"source '{script}'
function=$(complete -p argocd-tailscale-plugin | sed -E 's/.* -F ([^ ]+) .*/\1/')
COMP_WORDS=({words})
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE="${{COMP_WORDS[*]}}"
COMP_POINT=${{#COMP_LINE}}
"$function" argocd-tailscale-plugin "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}"
"#,
        script = script.display(),
        words = words.join(" "),
    );
    let out = Command::new("bash")
        .arg("--norc")
        .arg("-c")
        .arg(program)
        .current_dir(cwd)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut offers: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    offers.sort();
    offers
}

fn bash_script(test: &Test) -> std::path::PathBuf {
    let out = run_in(
        test.path(),
        &["completions".into(), "bash".into()],
        &[],
        None,
    );
    let path = test.path().join("completion.bash");
    std::fs::write(&path, out.success()).unwrap();
    path
}

#[test]
fn bash_completes_the_options_of_a_subcommand() {
    // clap-rs/clap#6421: with a hyphen in the binary's name, the generated
    // script completed no subcommand's options.
    let test = Test::new();
    let script = bash_script(&test);
    let offers = bash_offers(&script, test.path(), &["generate", "--"]);
    for option in [
        "--values",
        "--upstream",
        "--output",
        "--allow-empty",
        "--repo-root",
    ] {
        assert!(
            offers.iter().any(|o| o == option),
            "{option} not in {offers:?}"
        );
    }
    assert!(offers.iter().all(|o| o.starts_with("--")), "{offers:?}");
}

#[test]
fn bash_completes_option_values_subcommands_and_paths() {
    let test = Test::new()
        .write("values.yaml", "services: {}\n")
        .write("vendor/x.yaml", "");
    let script = bash_script(&test);
    let offers = |line: &[&str]| bash_offers(&script, test.path(), line);
    assert_eq!(
        offers(&["check", "--format", ""]),
        ["json", "sarif", "text"]
    );
    assert_eq!(offers(&["generate", "-o", ""]), ["json", "yaml"]);
    let shells: Vec<String> = offers(&["completions", ""])
        .into_iter()
        .filter(|o| !o.starts_with('-'))
        .collect();
    assert_eq!(shells, ["bash", "elvish", "fish", "powershell", "zsh"]);
    let top = offers(&[""]);
    for sub in [
        "generate",
        "check",
        "diff",
        "ignore-differences",
        "man",
        "schema",
    ] {
        assert!(top.iter().any(|o| o == sub), "{sub} not in {top:?}");
    }
    assert!(
        offers(&["generate", "--values", "val"]).contains(&"values.yaml".to_string()),
        "paths complete"
    );
    assert!(
        offers(&["check", "--policy", "ven"])
            .iter()
            .any(|o| o.starts_with("vendor"))
    );
}

#[test]
fn every_shell_gets_a_script_that_names_every_subcommand_and_option() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = run_in(
            &repo_root(),
            &["completions".into(), shell.into()],
            &[],
            None,
        );
        let script = out.success();
        for word in [
            "generate",
            "ignore-differences",
            "check",
            "diff",
            "schema",
            "values",
            "format",
        ] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
        // clap_complete's elvish and PowerShell scripts complete no values.
        if ["bash", "zsh", "fish"].contains(&shell) {
            assert!(script.contains("sarif"), "{shell} completion lacks values");
        }
    }
}

/// Whether `program` runs here.
fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn zsh_completes_options_and_their_values() {
    if !installed("zsh") {
        crate::support::skip("completions::zsh", "zsh is not installed", "REQUIRE_ZSH");
        return;
    }
    let test = Test::new();
    let script = run_in(
        test.path(),
        &["completions".into(), "zsh".into()],
        &[],
        None,
    );
    let bin_root = Path::new(crate::support::BIN)
        .parent()
        .unwrap()
        .to_path_buf();
    let mut zsh = completest_pty::ZshRuntime::new(bin_root, test.path().join("home")).unwrap();
    zsh.register("argocd-tailscale-plugin", script.success())
        .unwrap();
    let term = completest_pty::Term::new();
    let options = zsh
        .complete("argocd-tailscale-plugin generate --\t\t", &term)
        .unwrap();
    for option in ["--values", "--upstream", "--output", "--render-timeout"] {
        assert!(options.contains(option), "{option} not offered:\n{options}");
    }
    let formats = zsh
        .complete("argocd-tailscale-plugin check --format \t\t", &term)
        .unwrap();
    for format in ["text", "json", "sarif"] {
        assert!(formats.contains(format), "{format} not offered:\n{formats}");
    }
}
