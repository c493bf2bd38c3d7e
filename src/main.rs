//! The binary's edge: parse arguments, run, and decide the exit code here
//! and nowhere else (0 success, 1 differences found by `diff` or errors found by
//! `check`, 2 error;
//! clap's usage errors are 2 too).

mod cli;
mod completions;
mod diff_cmd;
mod input;
mod manual;

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use argocd_tailscale_plugin::{escape, signals};
use clap::Parser;

/// `diff` found differences, or `check` found errors.
const EXIT_FOUND: u8 = 1;
const EXIT_ERROR: u8 = 2;

/// Writes to stderr; false when that failed (closed, or a full disk).
fn report(text: &str) -> bool {
    let mut stderr = std::io::stderr().lock();
    writeln!(stderr, "{text}")
        .and_then(|()| stderr.flush())
        .is_ok()
}

/// Whether standard output was closed when the process started. Rust's
/// runtime reopens a closed standard stream on /dev/null before `main`, so
/// writes would vanish and "printed nothing" would pass for success; the
/// check runs earlier, as an ELF initialiser.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);

extern "C" fn check_stdout() {
    for (fd, flag) in [
        (libc::STDOUT_FILENO, &STDOUT_CLOSED),
        (libc::STDERR_FILENO, &STDERR_CLOSED),
    ] {
        // SAFETY: fcntl(F_GETFD) only queries the descriptor's flags.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
            flag.store(true, Ordering::SeqCst);
        }
    }
}

#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static CHECK_STDOUT: extern "C" fn() = check_stdout;

/// Whether standard output or standard error was closed at start.
fn a_stream_was_closed() -> bool {
    // Where no initialiser ran, ask now (a closed descriptor may already
    // have been reopened).
    if !cfg!(target_os = "linux") {
        check_stdout();
    }
    STDOUT_CLOSED.load(Ordering::SeqCst) || STDERR_CLOSED.load(Ordering::SeqCst)
}

fn fail(message: &str) -> ExitCode {
    // If even stderr fails there is nothing more to say; the status says it.
    report(message);
    ExitCode::from(EXIT_ERROR)
}

fn main() -> ExitCode {
    argocd_tailscale_plugin::guard::configure();
    let cli = cli::Cli::parse();
    if let Err(e) = signals::install() {
        return fail(&format!("error: cannot install signal handlers: {e}"));
    }
    if a_stream_was_closed() {
        return fail("error: standard output or standard error is closed; nothing is printed");
    }
    // The whole run on a parser-sized stack: the main thread's, when it is
    // large enough, else one worker thread's.
    match argocd_tailscale_plugin::yaml::with_main_or_parser_stack(|| cli::run(&cli)) {
        // Asked to stop: whatever was rendered is not printed.
        Ok(_) if signals::terminated() => fail("error: terminated; nothing was printed"),
        Ok(printed) => {
            // One finding, one line: a user's string cannot add another.
            // All lines in one write: a run with thousands of notes would
            // otherwise spend milliseconds in system calls.
            if !printed.stderr.is_empty() {
                let mut text = String::new();
                for (i, line) in printed.stderr.iter().enumerate() {
                    if i > 0 {
                        text.push('\n');
                    }
                    text.push_str(&escape::controls(line));
                }
                if !report(&text) {
                    return ExitCode::from(EXIT_ERROR);
                }
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
                Err(e) => fail(&format!("error: cannot write the output: {e}")),
            }
        }
        Err(err) => fail(&format!("error: {err:#}")),
    }
}
