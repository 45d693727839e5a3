//! Selects the provider whose generated operation table this build includes.
//!
//! `CAPA_PROVIDER=<name>` (default `stripe`) picks `generated/<name>/operations.rs`, written by
//! `capa-gen build <name>` (run by `scripts/build.sh <name>`, the wrangler build command).

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=CAPA_PROVIDER");
    let provider = std::env::var("CAPA_PROVIDER").unwrap_or_else(|_| "stripe".to_owned());
    assert!(
        !provider.is_empty() && provider.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'),
        "CAPA_PROVIDER must be a provider name like `stripe`, got {provider:?}"
    );
    let table: PathBuf = [env!("CARGO_MANIFEST_DIR"), "generated", &provider, "operations.rs"].iter().collect();
    assert!(
        table.exists(),
        "{} is missing: run `cargo run -p capa-gen -- build {provider}` first",
        table.display()
    );
    println!("cargo:rerun-if-changed={}", table.display());
    println!("cargo:rustc-env=CAPA_TABLE={}", table.display());
}
