//! The binary's edge: parse arguments, run, and decide the exit code here
//! and nowhere else (0 success, 1 differences found by `diff` or errors found by
//! `check`, 2 error;
//! clap's usage errors are 2 too).

mod cli;
mod diff_cmd;
mod input;

use std::io::Write;
use std::process::ExitCode;

use argocd_tailscale_plugin::signals;
use clap::Parser;

/// `diff` found differences, or `check` found errors.
const EXIT_FOUND: u8 = 1;
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    if let Err(e) = signals::install() {
        eprintln!("error: cannot install signal handlers: {e}");
        return ExitCode::from(EXIT_ERROR);
    }
    // One worker thread with a parser-sized stack serves the whole run.
    match argocd_tailscale_plugin::yaml::with_parser_stack(|| cli::run(&cli)) {
        // Asked to stop: whatever was rendered is not printed.
        Ok(_) if signals::terminated() => {
            eprintln!("error: terminated; nothing was printed");
            ExitCode::from(EXIT_ERROR)
        }
        Ok(printed) => {
            let mut stderr = std::io::stderr().lock();
            for line in &printed.stderr {
                let _ = writeln!(stderr, "{line}");
            }
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(printed.stdout.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Ok(()) if printed.found => ExitCode::from(EXIT_FOUND),
                Ok(()) => ExitCode::SUCCESS,
                // A reader that stopped early (`| head`) is not our failure.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe && printed.found => {
                    ExitCode::from(EXIT_FOUND)
                }
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    let _ = writeln!(stderr, "error: cannot write the output: {e}");
                    ExitCode::from(EXIT_ERROR)
                }
            }
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
