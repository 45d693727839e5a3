//! Selects the provider whose generated operation table this build includes.
//!
//! `CAPA_PROVIDER=<name>` (default `stripe`) picks `generated/<name>/operations.rs`, written by
//! `capa-gen build <name>` (run by `scripts/build.sh <name>`, the wrangler build command).
//!
//! Only the provider's *name* leaves this script (`CAPA_TABLE_PROVIDER`); `src/lib.rs` includes
//! the table by a path relative to itself, and the rerun line names the table relative to the
//! package. No absolute path is baked into the build: a `target/` made in another checkout and
//! reused here (copied, or shared through `CARGO_TARGET_DIR`) would otherwise go on compiling
//! *that* checkout's table, while freshness was judged by this one's files.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=CAPA_PROVIDER");
    let provider = std::env::var("CAPA_PROVIDER").unwrap_or_else(|_| "stripe".to_owned());
    assert!(
        !provider.is_empty() && provider.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'),
        "CAPA_PROVIDER must be a provider name like `stripe`, got {provider:?}"
    );
    // Relative to the package root, which is a build script's working directory.
    let table = format!("generated/{provider}/operations.rs");
    assert!(
        Path::new(&table).exists(),
        "{table} is missing: run `cargo run -p capa-gen -- build {provider}` first"
    );
    println!("cargo:rerun-if-changed={table}");
    println!("cargo:rustc-env=CAPA_TABLE_PROVIDER={provider}");

    // `capa_tokens`: the build carries the token lifecycle (src/token/). A Worker whose table
    // exchanges no credentials for tokens leaves it out, and its bundle does not pay for it;
    // native builds (the tests) always carry it.
    println!("cargo:rustc-check-cfg=cfg(capa_tokens)");
    let wasm = std::env::var("TARGET").is_ok_and(|t| t.starts_with("wasm32"));
    let text = std::fs::read_to_string(&table).unwrap_or_default();
    if !wasm || ["ClientCredentials(", "ServiceAccount(", "Session("].iter().any(|s| text.contains(&format!("AuthScheme::{s}"))) {
        println!("cargo:rustc-cfg=capa_tokens");
    }
    // `capa_soft`, `capa_creds`: soft errors (src/soft.rs) and credential parameters
    // (src/creds.rs), carried only by a Worker whose table has them (and by native builds).
    println!("cargo:rustc-check-cfg=cfg(capa_soft)");
    println!("cargo:rustc-check-cfg=cfg(capa_creds)");
    println!("cargo:rustc-check-cfg=cfg(capa_bound)");
    // `capa_bound`: headers bound to Worker bindings (a secret one's value a credential).
    if !wasm || text.contains("bound_headers: &[(") {
        println!("cargo:rustc-cfg=capa_bound");
    }
    if !wasm || text.contains("soft_error: Some(") {
        println!("cargo:rustc-cfg=capa_soft");
    }
    if !wasm || text.contains("CredentialParam {") {
        println!("cargo:rustc-cfg=capa_creds");
    }
    // `capa_typed_parts`: multipart text parts typed by the spec's `encoding` (src/body.rs).
    println!("cargo:rustc-check-cfg=cfg(capa_typed_parts)");
    if !wasm || text.contains("Body::TypedMultipart {") {
        println!("cargo:rustc-cfg=capa_typed_parts");
    }
}
