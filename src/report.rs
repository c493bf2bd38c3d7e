//! What a run has to tell besides its output: repairs it made to upstream
//! objects, warnings, and notes. All go to stderr; `--strict` turns
//! repairs and warnings into errors.

use std::fmt;

use crate::error::{Error, ErrorKind};
use crate::location::Location;

/// One statement about the input, at the place it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub location: Location,
    pub message: String,
}

impl Finding {
    pub fn new(location: &Location, message: impl Into<String>) -> Finding {
        Finding {
            location: location.clone(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// Changes made to upstream objects so that only the chosen component
    /// is exposed.
    pub repairs: Vec<Finding>,
    pub warnings: Vec<Finding>,
    /// What was derived and from where (selectors, ports, workloads).
    pub notes: Vec<String>,
}

impl Report {
    pub fn warn(&mut self, location: &Location, message: impl Into<String>) {
        self.warnings.push(Finding::new(location, message));
    }

    pub fn repair(&mut self, location: &Location, message: impl Into<String>) {
        self.repairs.push(Finding::new(location, message));
    }

    pub fn note(&mut self, message: impl Into<String>) {
        self.notes.push(message.into());
    }

    /// Under `--strict`, the first repair or warning as an error.
    pub fn strict_error(&self) -> Option<Error> {
        let (what, finding) = self
            .repairs
            .first()
            .map(|f| ("would repair", f))
            .or_else(|| self.warnings.first().map(|f| ("warning", f)))?;
        let more = self.repairs.len() + self.warnings.len() - 1;
        let mut message = format!("{what}: {}", finding.message);
        if more > 0 {
            message.push_str(&format!(" (and {more} more)"));
        }
        Some(
            Error::new(ErrorKind::Strict, message)
                .at(finding.location.clone())
                .hint("--strict refuses to repair or warn; fix the input (run without --strict to see every finding)"),
        )
    }

    /// The lines for stderr, in a fixed order.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        lines.extend(self.repairs.iter().map(|f| format!("repaired: {f}")));
        lines.extend(self.warnings.iter().map(|f| format!("warning: {f}")));
        lines.extend(self.notes.iter().map(|n| format!("note: {n}")));
        lines
    }
}
