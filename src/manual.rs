//! Manual pages: one for the program and one per command, from the same
//! clap definitions as `--help`, with the sections clap does not know
//! (environment, exit status, examples) added from the tables below.

use std::path::Path;

use clap::CommandFactory;
use roff::{Roff, bold, italic, roman};

use crate::cli::{BIN, Cli};

/// One page: its file name (`argocd-tailscale-plugin-generate.1`) and roff.
pub struct Page {
    pub file: String,
    pub roff: String,
}

/// An environment variable and what it does.
struct Variable {
    name: &'static str,
    meaning: &'static str,
}

const APP_PARAMETERS: Variable = Variable {
    name: "ARGOCD_APP_PARAMETERS",
    meaning: "The Application's plugin parameters as Argo CD sends them (JSON): values-files, upstream-files, strict. Read first; command-line flags win over it.",
};
const PARAM: Variable = Variable {
    name: "PARAM_<NAME>, PARAM_<NAME>_<i>",
    meaning: "One parameter each, as Argo CD also sets them (PARAM_VALUES_FILES_0 for the first values file), read when ARGOCD_APP_PARAMETERS is unset.",
};
const ENV_SETTING: Variable = Variable {
    name: "ARGOCD_ENV_<NAME>, <NAME>",
    meaning: "A setting from the Application's plugin env, then from the sidecar's environment: ARGOCD_ENV_STRICT=true, VALUES_FILES=a.yaml,b.yaml.",
};
const APP_NAMESPACE: Variable = Variable {
    name: "ARGOCD_APP_NAMESPACE",
    meaning: "The Application's destination namespace: the namespace of services that name none, Helm's --namespace, and that of ignoreDifferences entries.",
};
const APP_SOURCE_PATH: Variable = Variable {
    name: "ARGOCD_APP_SOURCE_PATH",
    meaning: "The application's path in the repository; the repository root is the working directory minus this path. Nothing outside the root is read.",
};
const APP_SOURCE: Variable = Variable {
    name: "ARGOCD_APP_SOURCE_REPO_URL, ARGOCD_APP_SOURCE_TARGET_REVISION",
    meaning: "The source of the child Applications an apps directory renders.",
};
const HELM_BINARY: Variable = Variable {
    name: "HELM_BINARY",
    meaning: "The helm that renders Helm sources (default: helm on PATH). It runs in a sandbox copy of the chart, with no network unless allowed below.",
};
const NO_COLOR: Variable = Variable {
    name: "NO_COLOR",
    meaning: "When set and not empty, --color auto prints no colour.",
};
const ALLOWED_CHARTS: Variable = Variable {
    name: "TAILSCALE_PLUGIN_ALLOWED_CHARTS",
    meaning: "The sidecar administrator's allow-list of remote chart prefixes (https:// or oci://, comma-separated). Unset: no network. No Application or repository can set it.",
};
const LIMITS: Variable = Variable {
    name: "TAILSCALE_PLUGIN_MAX_RUN_BYTES, TAILSCALE_PLUGIN_MAX_CHART_BYTES, TAILSCALE_PLUGIN_MAX_CHART_FILES, TAILSCALE_PLUGIN_MAX_OBJECTS",
    meaning: "The administrator's per-run limits: bytes read in all, a chart's bytes and files, objects in the stream.",
};

/// The variables that shape a render, shared by every command that renders.
const RENDER: &[&Variable] = &[
    &APP_PARAMETERS,
    &PARAM,
    &ENV_SETTING,
    &APP_NAMESPACE,
    &APP_SOURCE_PATH,
    &APP_SOURCE,
    &HELM_BINARY,
    &ALLOWED_CHARTS,
    &LIMITS,
];

/// What a page adds to clap's sections.
struct Extra {
    environment: Vec<&'static Variable>,
    exit: &'static [(&'static str, &'static str)],
    examples: &'static [(&'static str, &'static str)],
}

const EXIT_RENDER: &[(&str, &str)] = &[
    ("0", "Success: the output is on standard output."),
    (
        "2",
        "An error: bad input, a conflict the gate refuses, a failed render. Nothing is printed on standard output; one message on standard error names the file, line, column and key.",
    ),
];

fn extra(command: &str) -> Extra {
    let render = || RENDER.to_vec();
    match command {
        "generate" => Extra {
            environment: render(),
            exit: EXIT_RENDER,
            examples: &[
                (
                    "Render the application in the current directory:",
                    "argocd-tailscale-plugin generate",
                ),
                (
                    "Post-process a chart's rendered manifests:",
                    "helm template teleport teleport/teleport-cluster -f chart.yaml > rendered.yaml\nargocd-tailscale-plugin generate -f values.yaml --upstream rendered.yaml",
                ),
            ],
        },
        "parameters" => Extra {
            environment: vec![&APP_PARAMETERS, &PARAM, &ENV_SETTING, &APP_SOURCE_PATH],
            exit: EXIT_RENDER,
            examples: &[(
                "What Argo CD's UI shows for this directory:",
                "argocd-tailscale-plugin parameters",
            )],
        },
        "ignore-differences" => Extra {
            environment: render(),
            exit: EXIT_RENDER,
            examples: &[(
                "The entries to paste into the Application's spec:",
                "argocd-tailscale-plugin ignore-differences -f values.yaml",
            )],
        },
        "diff" => Extra {
            environment: render().into_iter().chain([&NO_COLOR]).collect(),
            exit: &[
                ("0", "No differences."),
                ("1", "Differences were found (and printed)."),
                (
                    "2",
                    "An error: a side could not be rendered or read. Nothing is printed on standard output.",
                ),
            ],
            examples: &[
                (
                    "What a pull request changes, as Markdown:",
                    "argocd-tailscale-plugin diff --base origin/main --format markdown teleport apps",
                ),
                (
                    "Check the golden cases of a copy that is not a git work tree:",
                    "argocd-tailscale-plugin diff --golden testdata/cases --repo-root .",
                ),
            ],
        },
        "check" => Extra {
            environment: render(),
            exit: &[
                (
                    "0",
                    "No error findings (warnings allowed unless --deny-warnings).",
                ),
                (
                    "1",
                    "At least one error finding, or a warning with --deny-warnings.",
                ),
                (
                    "2",
                    "The inputs could not be read. Nothing is printed on standard output.",
                ),
            ],
            examples: &[
                (
                    "Explain what will go wrong before syncing:",
                    "argocd-tailscale-plugin check --policy policy.hujson --log proxy.log",
                ),
                (
                    "For GitHub code scanning:",
                    "argocd-tailscale-plugin check --format sarif > tailscale.sarif",
                ),
                (
                    "The long form of a code:",
                    "argocd-tailscale-plugin check --explain TS001",
                ),
            ],
        },
        "completions" => Extra {
            environment: Vec::new(),
            exit: &[("0", "The script is printed."), ("2", "An unknown shell.")],
            examples: &[(
                "bash, for the current user:",
                "argocd-tailscale-plugin completions bash > ~/.local/share/bash-completion/completions/argocd-tailscale-plugin",
            )],
        },
        "man" => Extra {
            environment: Vec::new(),
            exit: &[
                ("0", "The page is printed, or the pages are written."),
                (
                    "2",
                    "An unknown command, or the directory cannot be written.",
                ),
            ],
            examples: &[(
                "Install every page:",
                "argocd-tailscale-plugin man --dir /usr/local/share/man/man1",
            )],
        },
        "schema" => Extra {
            environment: Vec::new(),
            exit: &[("0", "The schema is printed.")],
            examples: &[(
                "Editor validation of values files:",
                "argocd-tailscale-plugin schema > values.schema.json",
            )],
        },
        _ => Extra {
            environment: render().into_iter().chain([&NO_COLOR]).collect(),
            exit: &[
                ("0", "Success."),
                ("1", "diff: differences found; check: error findings."),
                (
                    "2",
                    "An error; nothing is printed on standard output, one message on standard error.",
                ),
            ],
            examples: &[(
                "Render the bundled example:",
                "cd examples/teleport-story/teleport && argocd-tailscale-plugin generate",
            )],
        },
    }
}

fn render(command: &clap::Command, name: &str) -> Page {
    let man = clap_mangen::Man::new(command.clone())
        .source(format!("{BIN} {}", env!("CARGO_PKG_VERSION")))
        .manual("User Commands");
    let mut out = Vec::new();
    man.render_title(&mut out).expect("writes to memory");
    man.render_name_section(&mut out).expect("writes to memory");
    man.render_synopsis_section(&mut out)
        .expect("writes to memory");
    man.render_description_section(&mut out)
        .expect("writes to memory");
    if command.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut out)
            .expect("writes to memory");
    }
    if command.has_subcommands() {
        man.render_subcommands_section(&mut out)
            .expect("writes to memory");
    }
    let extra = extra(name);
    let mut roff = Roff::new();
    if !extra.environment.is_empty() {
        roff.control("SH", ["ENVIRONMENT"]);
        for variable in &extra.environment {
            roff.control("TP", []);
            roff.text([bold(variable.name)]);
            roff.text([roman(variable.meaning)]);
        }
    }
    roff.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in extra.exit {
        roff.control("TP", []);
        roff.text([bold(*code)]);
        roff.text([roman(*meaning)]);
    }
    roff.control("SH", ["EXAMPLES"]);
    for (what, example) in extra.examples {
        roff.text([roman(*what)]);
        roff.control("PP", []);
        roff.control("RS", ["4"]);
        roff.control("nf", []);
        for line in example.lines() {
            roff.text([roman(line)]);
        }
        roff.control("fi", []);
        roff.control("RE", []);
        roff.control("PP", []);
    }
    roff.control("SH", ["SEE ALSO"]);
    // Page names are long and hyphenated; breaking them inside would make
    // them unsearchable.
    roff.control("nh", []);
    roff.control("ad", ["l"]);
    let others: Vec<String> = pages_of()
        .into_iter()
        .map(|(_, page)| page)
        .filter(|page| page != &title(command))
        .collect();
    for (i, page) in others.iter().enumerate() {
        let separator = if i + 1 < others.len() { ")," } else { ")" };
        roff.text([bold(page.as_str()), roman("(1"), roman(separator)]);
    }
    roff.control("PP", []);
    roff.text([
        roman("The README, with the values reference and every diagnostic code: "),
        italic(env!("CARGO_PKG_REPOSITORY")),
    ]);
    let mut text = String::from_utf8(out).expect("roff is UTF-8");
    text.push_str(&roff.to_roff());
    Page {
        file: format!("{}.1", title(command)),
        roff: text,
    }
}

fn title(command: &clap::Command) -> String {
    command
        .get_display_name()
        .unwrap_or_else(|| command.get_name())
        .to_string()
}

/// Every command with a page, as (command name, page title).
fn pages_of() -> Vec<(String, String)> {
    let mut cli = Cli::command();
    cli.build();
    std::iter::once((String::new(), BIN.to_string()))
        .chain(
            cli.get_subcommands()
                .filter(|s| s.get_name() != "help")
                .map(|s| (s.get_name().to_string(), title(s))),
        )
        .collect()
}

/// The page of `command` (the program's own page for `None`), or the names
/// of the commands that have one.
pub fn page(command: Option<&str>) -> Result<Page, Vec<String>> {
    let mut cli = Cli::command().disable_help_subcommand(true);
    cli.build();
    match command {
        None => Ok(render(&cli, "")),
        Some(name) => cli
            .get_subcommands()
            .find(|s| s.get_name() == name)
            .map(|s| render(s, name))
            .ok_or_else(|| {
                pages_of()
                    .into_iter()
                    .map(|(c, _)| c)
                    .filter(|c| !c.is_empty())
                    .collect()
            }),
    }
}

/// Writes every page into `dir`; returns the files written.
pub fn write_all(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut written = Vec::new();
    for (command, _) in pages_of() {
        let page = page((!command.is_empty()).then_some(command.as_str()))
            .expect("every listed command has a page");
        let path = dir.join(&page.file);
        std::fs::write(&path, page.roff)?;
        written.push(path.display().to_string());
    }
    Ok(written)
}
