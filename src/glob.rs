//! Globs as Argo CD matches a directory source's `include` and `exclude`
//! (gobwas/glob without separators): `*` and `?` cross `/`, `{a,b}` picks
//! one of several, `[...]` is a class.

pub fn compile(pattern: &str) -> Result<globset::GlobMatcher, String> {
    globset::GlobBuilder::new(pattern)
        .literal_separator(false)
        .backslash_escape(true)
        .empty_alternates(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| e.kind().to_string())
}

/// Whether `text` matches `pattern`; a pattern that is not a glob
/// matches only itself.
pub fn matches(pattern: &str, text: &str) -> bool {
    match compile(pattern) {
        Ok(glob) => glob.is_match(text),
        Err(_) => pattern == text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_argo_cd_matches_them() {
        let m = |p: &str, path: &str| compile(p).unwrap().is_match(path);
        assert!(m("*.yaml", "a.yaml"));
        // `*` crosses directories, as gobwas/glob without separators does.
        assert!(m("*.yaml", "sub/a.yaml"));
        assert!(m("{base,prod}/*", "prod/x.yml"));
        assert!(!m("{base,prod}/*", "dev/x.yml"));
        assert!(m("config-?.json", "config-1.json"));
        assert!(m("[ab].yaml", "b.yaml"));
        assert!(compile("{unclosed").is_err());
    }
}
