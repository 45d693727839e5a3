//! capa-gen: an OpenAPI spec and a small manifest become a capa-rs capability Worker.
//!
//! Stages, one module each: [`spec`] (parse) → [`model`] (the operations as the runtime needs
//! them) → [`names`] (`resource.method` for each) → [`emit`] (operation table, JS entry,
//! TypeScript declaration, method table). Output for the shipped providers is pinned by golden
//! tests (`generator/tests/golden.rs`); `npm run regen` rewrites it.
//!
//! Below the stages lie their inputs: the [`manifest`] (its auth [`schemes`] as data of their
//! own), the checkout's layout ([`repo`]) and the rules text must meet to enter the generated
//! files ([`fit`]). The modules stand in layers, each using only its own and those below, with
//! no cycle (`generator/tests/layers.rs` lists them); this root wires the stages together and
//! no module uses it.
#![deny(missing_docs)]

/// The deploy-time check of credentials: manifest against spec and `wrangler.toml`.
pub mod check;
/// Classes of operation (read, write, destructive, the manifest's).
pub mod classes;
/// Stage 4: the generated files.
pub mod emit;
/// Whether the inputs' text fits where the generated files put it.
pub mod fit;
/// The provider manifest (`openapi/<provider>/capa.toml`).
pub mod manifest;
/// Stage 2: operations as the runtime needs them.
pub mod model;
/// Stage 3: public names.
pub mod names;
/// Where things are in the checkout.
pub mod repo;
/// The manifest's auth schemes (`[auth]`, `[auth.schemes.<name>]`), as data.
pub mod schemes;
/// Which scheme an operation authenticates with: the spec's security against the manifest's.
pub mod security;
/// Stage 1: the spec as a JSON tree.
pub mod spec;
/// Spec upgrades: the lock, and what a new version changes.
pub mod upgrade;

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

pub use repo::{manifest_path, providers, repo_root, PROVIDER_DIRS};

/// One generated file: its name inside `generated/<provider>/`, and its text.
pub struct File {
    /// File name, e.g. `entry.js`.
    pub name: &'static str,
    /// Contents.
    pub text: String,
}

/// Everything generated for one provider.
pub struct Output {
    /// The provider's name (its `openapi/` directory and wrangler env).
    pub capability: String,
    /// The files, in a fixed order.
    pub files: Vec<File>,
    /// Operations left out, and why.
    pub skipped: Vec<(String, String)>,
    /// How many spec defects were tolerated (listed in `methods.txt`).
    pub warnings: usize,
    /// The lock this spec and generator give (`openapi/<provider>/capa.lock`), and its path.
    pub lock: (PathBuf, upgrade::Lock),
}

/// Generates the files for the provider whose manifest is `manifest_path`.
pub fn generate(manifest_path: &Path) -> Result<Output> {
    let manifest = manifest::Manifest::load(manifest_path)?;
    let bytes = std::fs::read(manifest.spec_path()).with_context(|| format!("reading {}", manifest.spec_path().display()))?;
    // A spec the lock does not pin is refused before anything is made of it.
    upgrade::check_lock(&manifest, &bytes)?;
    let spec = spec::Spec::load(&manifest.spec_path())?;
    // Credentials declared as the spec and wrangler.toml say, or nothing is built.
    let report = check::check(&repo_root(), &manifest, &spec);
    if !report.errors.is_empty() {
        anyhow::bail!("{}: the credential check failed (`npm run check -- {}`):\n  {}", manifest.capability, manifest.capability, report.errors.join("\n  "));
    }
    let model = model::build(&spec, &manifest)?;
    let names = names::assign(&model.operations, &manifest.names, manifest.naming, manifest.version_prefix.as_deref())?;
    let classes = classes_of(&manifest, &model, &names)?;
    let rights = check::rights_vars(&repo_root(), &manifest.capability, &names, &classes.names);
    if !rights.is_empty() {
        anyhow::bail!("{}: the rights check failed:\n  {}", manifest.capability, rights.join("\n  "));
    }
    let lock = upgrade::Lock::new(&manifest.spec.display().to_string(), &bytes, &upgrade::methods(&spec, &model, &names), &upgrade::types(&spec));
    let tree = emit::tree::build(&names);
    let files = vec![
        File { name: "operations.rs", text: emit::rust::emit(&manifest, &model, &names, &classes) },
        File { name: "entry.js", text: emit::js::emit(&manifest, &model, &tree) },
        File { name: "index.d.ts", text: emit::ts::emit(&spec, &manifest, &model, &tree, &classes) },
        File { name: "methods.txt", text: emit::methods::emit(&manifest, &model, &names, &classes) },
        File { name: "door.json", text: emit::door::emit(&spec, &manifest, &model, &names, &classes) },
    ];
    if let Some(entry) = files.iter().find(|f| f.name == "entry.js") {
        check_js(&manifest.capability, &entry.text)?;
    }
    Ok(Output { lock: (upgrade::lock_path(&manifest), lock), capability: manifest.capability, files, warnings: model.warnings.len(), skipped: model.skipped })
}

/// The methods `spec_file` gives under the manifest at `manifest_path` (the new version, for a
/// diff), and the manifest.
pub fn methods_of(manifest_path: &Path, spec_file: &Path) -> Result<(manifest::Manifest, Vec<upgrade::Method>, std::collections::BTreeMap<String, upgrade::Shape>)> {
    let manifest = manifest::Manifest::load(manifest_path)?;
    let spec = spec::Spec::load(spec_file)?;
    let model = model::build(&spec, &manifest)?;
    let names = names::assign(&model.operations, &manifest.names, manifest.naming, manifest.version_prefix.as_deref())?;
    let types = upgrade::types(&spec);
    Ok((manifest, upgrade::methods(&spec, &model, &names), types))
}

/// Fails unless `text` parses as a JS module, by the engine's own parser (`node --check`): a
/// name the rules let through that JS cannot take fails here, naming the line, rather than in
/// wrangler's bundler or at deploy.
fn check_js(capability: &str, text: &str) -> Result<()> {
    let path = std::env::temp_dir().join(format!("capa-gen-{}-{capability}.mjs", std::process::id()));
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    let out = std::process::Command::new("node").arg("--check").arg(&path).output();
    let _ = std::fs::remove_file(&path);
    let out = out.context("checking the emitted entry.js with `node --check` (is Node.js on PATH?)")?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        anyhow::bail!("{capability}: the emitted entry.js does not parse, a generator bug (please report it with the spec):\n{why}");
    }
    Ok(())
}

/// The method table of the provider whose manifest is `manifest_path`, as JSON
/// ([`emit::table`]).
pub fn table(manifest_path: &Path) -> Result<serde_json::Value> {
    let manifest = manifest::Manifest::load(manifest_path)?;
    let spec = spec::Spec::load(&manifest.spec_path())?;
    let model = model::build(&spec, &manifest)?;
    let names = names::assign(&model.operations, &manifest.names, manifest.naming, manifest.version_prefix.as_deref())?;
    let classes = classes_of(&manifest, &model, &names)?;
    Ok(emit::table::emit(&manifest, &model, &names, &classes))
}

/// Each operation's classes ([`classes::assign`]).
fn classes_of(manifest: &manifest::Manifest, model: &model::Model, names: &[names::Name]) -> Result<classes::Classes> {
    let ops: Vec<classes::Op<'_>> = model.operations.iter().map(|o| classes::Op { method: &o.method, id: &o.id }).collect();
    classes::assign(&ops, names, &manifest.classes).map_err(|e| anyhow::anyhow!("{}: {e}", manifest.capability))
}

/// The errors of the deployment's rights vars for the provider whose manifest is `manifest_path`
/// ([`check::rights_vars`]), for `capa-gen verify`.
pub fn rights_errors(root: &Path, manifest_path: &Path) -> Result<Vec<String>> {
    let manifest = manifest::Manifest::load(manifest_path)?;
    let spec = spec::Spec::load(&manifest.spec_path())?;
    let model = model::build(&spec, &manifest)?;
    let names = names::assign(&model.operations, &manifest.names, manifest.naming, manifest.version_prefix.as_deref())?;
    let classes = classes_of(&manifest, &model, &names)?;
    Ok(check::rights_vars(root, &manifest.capability, &names, &classes.names))
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_entry_that_does_not_parse_fails_the_generator() {
        assert!(super::check_js("probe", "export default class A { get x() { return 1; } }").is_ok());
        let e = super::check_js("probe", "class 1Clicks {}").unwrap_err().to_string();
        assert!(e.contains("does not parse") && e.contains("SyntaxError"), "{e}");
    }
}
