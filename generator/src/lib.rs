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

/// What `wrangler.toml` says about the capability's callers: its call budget, their props.
pub mod callers;
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
/// A new provider's manifest inferred from its spec, and what to do once it is built.
pub mod scaffold;
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

/// What [`add`] did.
pub struct Added {
    /// The manifest written.
    pub manifest: PathBuf,
    /// What the scaffold inferred, noted and flagged.
    pub notes: Vec<scaffold::Note>,
    /// The lock written, as its summary line.
    pub locked: String,
    /// The generation's summary line.
    pub generated: String,
    /// The deploy check's report.
    pub check: check::Report,
}

/// Adds the provider `name` from the spec at `spec_file` (`capa-gen add`): installs the spec in
/// `openapi/<name>/`, writes the manifest the scaffold infers, adds `[env.<name>]` to
/// `wrangler.toml`, locks the spec, generates and runs the deploy check. Refuses a provider that
/// exists unless `force`.
pub fn add(root: &Path, name: &str, spec_file: &Path, options: &scaffold::Options, force: bool) -> Result<Added> {
    if !scaffold::valid_name(name) {
        anyhow::bail!("{name:?} cannot name a provider: lowercase letters, digits and `-`, starting with a letter");
    }
    let existing = manifest_path(root, name);
    if existing.exists() && !force {
        anyhow::bail!("{} exists: provider {name} is there already (add --force to write it again, or choose another name)", existing.display());
    }
    if existing.exists() && !existing.starts_with(root.join("openapi")) {
        anyhow::bail!("{name} is a test fixture ({}): choose another name", existing.display());
    }
    let bytes = std::fs::read(spec_file).with_context(|| format!("reading {}", spec_file.display()))?;
    let spec = spec::Spec::load(spec_file)?;
    let file_name = spec_file.file_name().context("the spec has no file name")?.to_string_lossy().into_owned();
    let plan = scaffold::plan(&spec, name, &file_name, options)?;

    let dir = root.join("openapi").join(name);
    if force && dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(dir.join(&file_name), &bytes).with_context(|| format!("writing {}", dir.join(&file_name).display()))?;
    let manifest_file = dir.join("capa.toml");
    std::fs::write(&manifest_file, &plan.manifest).with_context(|| format!("writing {}", manifest_file.display()))?;
    let wrangler = root.join("wrangler.toml");
    let text = std::fs::read_to_string(&wrangler).with_context(|| format!("reading {}", wrangler.display()))?;
    if let Some(text) = scaffold::add_env(&text, name)? {
        std::fs::write(&wrangler, text)?;
    }

    // The first lock: what it pins, not a diff against nothing.
    let (manifest, methods, types) = methods_of(&manifest_file, &dir.join(&file_name))?;
    let lock = upgrade::Lock::new(&file_name, &bytes, &methods, &types);
    std::fs::write(upgrade::lock_path(&manifest), lock.text())?;
    let locked = format!("locked openapi/{name}/{file_name}: {} method(s), sha256 {}…", lock.methods, &lock.sha256[..12]);

    let out = generate(&manifest_file)?;
    let gen_dir = root.join("generated").join(name);
    std::fs::create_dir_all(&gen_dir)?;
    for f in &out.files {
        std::fs::write(gen_dir.join(f.name), &f.text)?;
    }
    let (lock_path, lock) = &out.lock;
    std::fs::write(lock_path, lock.text())?;
    let generated = format!(
        "generated/{name}/: {} file(s){}{}",
        out.files.len(),
        if out.skipped.is_empty() { String::new() } else { format!(", {} operation(s) skipped (see methods.txt)", out.skipped.len()) },
        if out.warnings == 0 { String::new() } else { format!(", {} spec warning(s) (see methods.txt)", out.warnings) }
    );
    let mut report = check::check(root, &manifest, &spec);
    report.errors.extend(rights_errors(root, &manifest_file)?);
    Ok(Added { manifest: manifest_file, notes: plan.notes, locked, generated, check: report })
}

/// The next steps for a built provider ([`scaffold::guide`]).
pub fn guide(root: &Path, provider: &str) -> Result<String> {
    let path = manifest_path(root, provider);
    let manifest = manifest::Manifest::load(&path)?;
    let spec = spec::Spec::load(&manifest.spec_path())?;
    let model = model::build(&spec, &manifest)?;
    let names = names::assign(&model.operations, &manifest.names, manifest.naming, manifest.version_prefix.as_deref())?;
    let classes = classes_of(&manifest, &model, &names)?;
    let report = check::check(root, &manifest, &spec);
    Ok(scaffold::guide::render(&manifest, &model, &names, &classes, &report.handles))
}

/// A provider's declarations for a caller in another repository (`capa-gen declare`): its
/// `index.d.ts` as one file that needs only `@cloudflare/workers-types`, and the binding block.
pub fn declare(root: &Path, provider: &str) -> Result<(String, String)> {
    let path = manifest_path(root, provider);
    let manifest = manifest::Manifest::load(&path)?;
    let out = generate(&path)?;
    let dts = out.files.iter().find(|f| f.name == "index.d.ts").context("no declarations")?;
    let lock = &out.lock.1;
    let text = format!(
        "// {cap}.d.ts: the capability `capa-{cap}`'s types for a caller Worker, written by\n\
         // `npm run declare -- {cap} <folder>` in capa-rs from {spec} (sha256 {sha}…).\n\
         // Needs only @cloudflare/workers-types. When the provider's spec is upgraded, run the command\n\
         // again and commit the change: tsc then names every call the new version breaks.\n\
         /// <reference types=\"@cloudflare/workers-types\" />\n{}",
        dts.text,
        cap = manifest.capability,
        spec = lock.spec,
        sha = &lock.sha256[..12],
    );
    Ok((text, scaffold::guide::binding_block(&manifest)))
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
