//! The binary's edge: parse arguments, run, and decide the exit code here
//! and nowhere else (0 success, 2 error; clap's usage errors are 2 too).

mod cli;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(&cli) {
        Ok(printed) => {
            let mut stderr = std::io::stderr().lock();
            for warning in &printed.warnings {
                let _ = writeln!(stderr, "warning: {warning}");
            }
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(printed.stdout.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Ok(()) => ExitCode::SUCCESS,
                // A reader that stopped early (`| head`) is not our failure.
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
