//! Where things are in the checkout: the repository root, the directories holding manifests,
//! a provider's manifest.
//!
//! The layout alone, read from the file system: what a manifest says is [`crate::manifest`]'s.
//! The generator, its binary and its tests find providers here, and the lock names its spec
//! relative to the root ([`crate::upgrade::check_lock`]).

use anyhow::Result;
use std::path::{Path, PathBuf};

/// The repository root: the nearest directory, from the one `capa-gen` runs in upwards, holding
/// a `wrangler.toml` and an `openapi/` directory. Never the path the binary was compiled at: a
/// copied or shared build (one `target/` serving several checkouts) must read the checkout it
/// runs in. Outside any checkout, the directory it runs in (and the commands fail naming what
/// is missing there).
pub fn repo_root() -> PathBuf {
    let here = std::env::current_dir().unwrap_or_default();
    find_root(&here).unwrap_or(here)
}

/// The nearest checkout at or above `dir` (see [`repo_root`]).
pub fn find_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().find(|d| d.join("wrangler.toml").is_file() && d.join("openapi").is_dir()).map(Path::to_path_buf)
}

/// Where manifests live: the providers, and the test fixtures (one small spec per auth scheme,
/// and the wire fixtures: encodings, bodies and answers; each built and tested like a provider).
pub const PROVIDER_DIRS: [&str; 3] = ["openapi", "tests/fixtures/auth", "tests/fixtures/wire"];

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

#[cfg(test)]
mod tests {
    #[test]
    fn the_root_is_found_walking_up_to_wrangler_toml_with_openapi() {
        let base = std::env::temp_dir().join(format!("capa-root-{}", std::process::id()));
        let deep = base.join("openapi").join("acme").join("x");
        std::fs::create_dir_all(&deep).unwrap();
        // A wrangler.toml without openapi/ beside it is some other Worker's.
        std::fs::create_dir_all(base.join("openapi/acme/w")).unwrap();
        std::fs::write(base.join("openapi/acme/w/wrangler.toml"), "").unwrap();
        assert_eq!(super::find_root(&base.join("openapi/acme/w")), None);
        std::fs::write(base.join("wrangler.toml"), "").unwrap();
        assert_eq!(super::find_root(&deep), Some(base.clone()));
        assert_eq!(super::find_root(&base.join("openapi/acme/w")), Some(base.clone()));
        std::fs::remove_dir_all(&base).unwrap();
    }
}

/// `openapi/<provider>/capa.toml`, or the fixture's of that name.
pub fn manifest_path(root: &Path, provider: &str) -> PathBuf {
    PROVIDER_DIRS
        .iter()
        .map(|dir| root.join(dir).join(provider).join("capa.toml"))
        .find(|p| p.exists())
        .unwrap_or_else(|| root.join("openapi").join(provider).join("capa.toml"))
}
