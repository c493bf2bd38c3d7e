//! Every bad input fails closed: exit 2, empty stdout, and one message that
//! names file, line, column and (for values errors) the key path.

use crate::support::{case_args, cases, compare, run_in};

/// `error: FILE:LINE:COLUMN: REST`, returning FILE and REST.
fn split_location(message: &str) -> Option<(&str, &str)> {
    let rest = message.strip_prefix("error: ")?;
    let mut parts = rest.splitn(4, ':');
    let (file, line, column, rest) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    (line.parse::<u32>().is_ok() && column.parse::<u32>().is_ok())
        .then_some((file, rest.trim_start()))
}

fn starts_with_key_path(rest: &str) -> bool {
    rest.split_once(": ").is_some_and(|(path, _)| {
        !path.is_empty()
            && path
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-[]/".contains(c))
    })
}

#[test]
fn error_cases_fail_closed_with_location_and_key_path() {
    let mut failures = Vec::new();
    for dir in cases("errors") {
        if !crate::support::runnable(&dir) {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let outcome = run_in(&dir, &case_args(&dir), &[], None);
        if outcome.code != 2 || !outcome.stdout.is_empty() {
            failures.push(format!(
                "{name}: exit {}, stdout {:?}, stderr {}",
                outcome.code, outcome.stdout, outcome.stderr
            ));
            continue;
        }
        match split_location(&outcome.stderr) {
            None => failures.push(format!(
                "{name}: no file:line:column in {:?}",
                outcome.stderr
            )),
            // Values errors name the key; YAML syntax errors, and errors in
            // templates or upstream manifests, point into text instead.
            Some((file, rest)) if file.ends_with("values.yaml") && !name.starts_with("syntax-") => {
                if !starts_with_key_path(rest) {
                    failures.push(format!("{name}: no key path in {:?}", outcome.stderr));
                }
            }
            Some(_) => {}
        }
        failures.extend(compare(&dir.join("expected.stderr"), &outcome.stderr));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
