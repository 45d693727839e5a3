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

    // `capa_tokens`: the build carries the token lifecycle (src/token.rs). A Worker whose table
    // exchanges no credentials for tokens leaves it out, and its bundle does not pay for it;
    // native builds (the tests) always carry it.
    println!("cargo:rustc-check-cfg=cfg(capa_tokens)");
    let wasm = std::env::var("TARGET").is_ok_and(|t| t.starts_with("wasm32"));
    let text = std::fs::read_to_string(&table).unwrap_or_default();
    if !wasm || ["ClientCredentials(", "ServiceAccount(", "Session("].iter().any(|s| text.contains(&format!("AuthScheme::{s}"))) {
        println!("cargo:rustc-cfg=capa_tokens");
    }
}
