//! Where things are in the checkout: the repository root, the directories holding manifests,
//! a provider's manifest.
//!
//! The layout alone, read from the file system: what a manifest says is [`crate::manifest`]'s.
//! The generator, its binary and its tests find providers here, and the lock names its spec
//! relative to the root ([`crate::upgrade::check_lock`]).

use anyhow::Result;
use std::path::{Path, PathBuf};

/// The repository root: the parent of this crate's directory.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Where manifests live: the providers, and the test fixtures (one small spec per auth scheme,
/// built and tested like a provider).
pub const PROVIDER_DIRS: [&str; 2] = ["openapi", "tests/fixtures/auth"];

/// Every provider with a manifest under [`PROVIDER_DIRS`], sorted.
pub fn providers(root: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for dir in PROVIDER_DIRS {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else { continue };
        for entry in entries {
            let entry = entry?;
            if entry.path().join("capa.toml").exists() {
                out.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// `openapi/<provider>/capa.toml`, or the fixture's of that name.
pub fn manifest_path(root: &Path, provider: &str) -> PathBuf {
    PROVIDER_DIRS
        .iter()
        .map(|dir| root.join(dir).join(provider).join("capa.toml"))
        .find(|p| p.exists())
        .unwrap_or_else(|| root.join("openapi").join(provider).join("capa.toml"))
}
