//! Shell completion scripts, generated from the command definitions.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{BIN, Cli};

/// The completion script for `shell`.
pub fn script(shell: Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), BIN, &mut out);
    let script = String::from_utf8(out).expect("clap_complete writes UTF-8");
    match shell {
        Shell::Bash => repair_bash_states(&script),
        _ => script,
    }
}

/// clap_complete's bash script names each subcommand's state twice: the
/// loop that reads the words escapes the binary name and then appends
/// `__subcmd__<name>`; the case arms escape the whole path at once, so a
/// hyphen in the binary name becomes `__subcmd__` there too. No arm ever
/// matches, and no subcommand's options complete (clap-rs/clap#6421).
/// Rewriting the arms' spelling to the loop's makes them meet; once the
/// generator is fixed upstream there is nothing left to rewrite.
fn repair_bash_states(script: &str) -> String {
    let loop_spelling = BIN.replace('-', "__");
    let arm_spelling = BIN.replace('-', "__subcmd__");
    script.replace(
        &format!("{arm_spelling}__subcmd__"),
        &format!("{loop_spelling}__subcmd__"),
    )
}
