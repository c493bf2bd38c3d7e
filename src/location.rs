//! Where a value came from: a file, a line and a column.
//!
//! Every error a user can fix points at one of these, so the position travels
//! with each parsed node rather than being looked up afterwards.

use std::fmt;
use std::sync::Arc;

/// A 1-based line and column in a named source (a file path as the user gave
/// it, `<stdin>`, or a template name).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
/// Lines and columns are 32-bit: every node of a values tree carries one,
/// and input is limited far below 4 GiB.
pub struct Location {
    pub file: Arc<str>,
    pub line: u32,
    pub column: u32,
}

impl Location {
    pub fn new(file: &Arc<str>, line: u64, column: u64) -> Self {
        let small = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        Location {
            file: Arc::clone(file),
            line: small(line),
            column: small(column),
        }
    }

    /// The start of a source, for problems with the whole file.
    pub fn start_of(file: &Arc<str>) -> Self {
        Location::new(file, 1, 1)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}
