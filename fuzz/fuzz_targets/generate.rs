//! The whole generate pipeline on fuzzed values (and, after a NUL byte,
//! fuzzed upstream manifests): output or an error, never a panic, and any
//! output is a stream a YAML 1.1 reader reads back.
#![no_main]

use std::sync::{Arc, OnceLock};

use argocd_tailscale_plugin::apps;
use argocd_tailscale_plugin::generate::Request;
use argocd_tailscale_plugin::repo::Repo;
use argocd_tailscale_plugin::values::Source;
use argocd_tailscale_plugin::yaml11;
use libfuzzer_sys::fuzz_target;

fn root() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile_free::Dir> = OnceLock::new();
    DIR.get_or_init(tempfile_free::Dir::new).path()
}

/// A directory under the system temporary directory, without a dependency.
mod tempfile_free {
    pub struct Dir(std::path::PathBuf);
    impl Dir {
        pub fn new() -> Dir {
            let path = std::env::temp_dir().join(format!("atp-fuzz-{}", std::process::id()));
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }
        pub fn path(&self) -> &std::path::Path {
            &self.0
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (values, upstream) = text.split_once('\0').unwrap_or((text, ""));
    let repo = Repo::discover(root(), Some(root()), None).unwrap();
    let mut request = Request::new(
        vec![Source { name: Arc::from("values.yaml"), text: values.to_string() }],
        repo,
        root().to_path_buf(),
    );
    if !upstream.is_empty() {
        request.upstream = vec![Source { name: Arc::from("rendered.yaml"), text: upstream.to_string() }];
    }
    request.allow_empty = true;
    if let Ok(output) = apps::generate(&request) {
        let docs = yaml11::read(&output.text).expect("output is YAML");
        assert_eq!(docs.len(), output.objects.len(), "one document per object");
    }
});
