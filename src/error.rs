//! The library's error type.
//!
//! Every failure the user can act on carries where it happened (file, line,
//! column), which key it concerns (`services.teleport.hostname`) and a hint.
//! The binary prints exactly one of these and exits 2; it never prints a
//! partial manifest stream next to it.

use std::fmt;

use crate::location::Location;

/// What kind of input was wrong; callers and tests branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A file could not be read (missing, unreadable, too large, outside the repository).
    Io,
    /// Text that is not YAML, or YAML the reader refuses (duplicate keys, alias bombs).
    Syntax,
    /// YAML that parses but does not fit the values schema or its rules.
    Values,
    /// A template that fails to render or renders something that is not a manifest.
    Template,
    /// The values select nothing to render, and `--allow-empty` was not given.
    Empty,
    /// Upstream manifests that cannot be used, or a `helm template` that failed.
    Upstream,
    /// A repair or warning that `--strict` turns into an error.
    Strict,
    /// A patch whose target matches nothing or whose operation fails.
    Patch,
    /// SIGTERM or SIGINT arrived; work was stopped and children ended.
    Interrupted,
    /// A command-line or environment setting that cannot be used.
    Usage,
    /// The gate found that the final stream would break a promise.
    Conflict,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub location: Option<Location>,
    /// Dotted key path inside the file, e.g. `services.teleport.backend.port`.
    pub key_path: Option<String>,
    pub message: String,
    pub hint: Option<String>,
    /// The number of the diagnostic code (10 for `TS010`) when `check` has
    /// one for this error; a number keeps every `Result` small.
    pub code: Option<std::num::NonZeroU16>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            location: None,
            key_path: None,
            message: message.into(),
            hint: None,
            code: None,
        }
    }

    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    pub fn key(mut self, key_path: impl Into<String>) -> Self {
        self.key_path = Some(key_path.into());
        self
    }

    /// Names the diagnostic code (`TS010`) this error is, for `check`.
    pub fn code(mut self, code: &'static str) -> Self {
        self.code = code
            .strip_prefix("TS")
            .and_then(|n| n.parse().ok())
            .and_then(std::num::NonZeroU16::new);
        debug_assert!(self.code.is_some(), "a code of the form TSnnn");
        self
    }

    /// The diagnostic code this error is, if it has one.
    pub fn code_id(&self) -> Option<&'static str> {
        let number = self.code?;
        crate::diagnostic::code(&format!("TS{number:03}")).map(|c| c.id)
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn io(path: &str, err: &std::io::Error) -> Self {
        Error::new(
            ErrorKind::Io,
            format!("cannot read {path}: {}", io_reason(err)),
        )
    }
}

/// The reason without Rust's "(os error 2)" suffix, which means nothing to a user.
fn io_reason(err: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match err.kind() {
        K::NotFound => "no such file".to_string(),
        K::PermissionDenied => "permission denied".to_string(),
        K::IsADirectory => "it is a directory".to_string(),
        K::InvalidData => "not UTF-8 text".to_string(),
        _ => {
            let text = err.to_string();
            match text.find(" (os error") {
                Some(cut) => text[..cut].to_string(),
                None => text,
            }
        }
    }
}

/// Separates the further findings a gate error lists, each on a line of
/// its own; every other line break in a message is a user's and is escaped.
pub const ALSO: &str = "\n  also: ";

impl fmt::Display for Error {
    /// One line (plus the hint's), whatever the strings inside hold: file
    /// names, keys and values come from the repository and may carry line
    /// breaks or terminal escapes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::escape::controls;
        if let Some(location) = &self.location {
            write!(f, "{}: ", controls(&location.to_string()))?;
        }
        if let Some(path) = &self.key_path {
            write!(f, "{}: ", controls(path))?;
        }
        let parts: Vec<_> = self.message.split(ALSO).map(controls).collect();
        f.write_str(&parts.join(ALSO))?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {}", controls(hint))?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn display_puts_location_then_key_then_hint() {
        let file: Arc<str> = Arc::from("values.yaml");
        let err = Error::new(ErrorKind::Values, "not a DNS label")
            .at(Location::new(&file, 4, 15))
            .key("services.teleport.hostname")
            .hint("use letters, digits and '-'");
        assert_eq!(
            err.to_string(),
            "values.yaml:4:15: services.teleport.hostname: not a DNS label\n  hint: use letters, digits and '-'"
        );
    }

    #[test]
    fn io_reason_drops_os_error_suffix() {
        let err = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert_eq!(
            Error::io("x.yaml", &err).message,
            "cannot read x.yaml: no such file"
        );
    }
}
