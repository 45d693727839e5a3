//! `capa-gen`: the build-time generator's command line.
//!
//! ```text
//! capa-gen build [provider...]   write generated/<provider>/ (all providers when none named)
//! capa-gen check [provider...]   fail if generated/<provider>/ is not what build would write
//! capa-gen methods <provider>    print the method table
//! capa-gen table <provider>      print the method table as JSON (for tests)
//! capa-gen stats <spec-file>     parse, model and name a spec with no manifest; print timings
//! capa-gen diff <provider> <spec-file> [--from <old>]  what moving to that spec changes (npm run spec-diff)
//! capa-gen update <provider> <spec-file>  install that spec, lock it, regenerate (npm run spec-update)
//! capa-gen verify [provider...]  the credential check: manifest vs spec vs wrangler.toml (npm run check)
//! ```

use anyhow::{bail, Context, Result};
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("capa-gen: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Stage timings for one spec, as JSON on stdout (the benchmark reads them).
fn stats(path: &std::path::Path) -> Result<()> {
    let manifest = capa_gen::manifest::Manifest::stand_in(path);
    let t = Instant::now();
    let spec = capa_gen::spec::Spec::load(path)?;
    let parse = t.elapsed();
    let t = Instant::now();
    let model = capa_gen::model::build(&spec, &manifest)?;
    let modelled = t.elapsed();
    let t = Instant::now();
    let names = capa_gen::names::assign(&model.operations, &manifest.names, manifest.naming, manifest.version_prefix.as_deref());
    let named = t.elapsed();
    println!(
        "{}",
        serde_json::json!({
            "spec": path.file_name().map(|f| f.to_string_lossy().into_owned()),
            "operations": model.operations.len(),
            "skipped": model.skipped.len(),
            "skipped_why": model.skipped.iter().map(|(id, why)| format!("{id}: {why}")).collect::<Vec<_>>(),
            "warnings": model.warnings,
            "parse_ms": parse.as_secs_f64() * 1e3,
            "model_ms": modelled.as_secs_f64() * 1e3,
            "names_ms": named.as_secs_f64() * 1e3,
            "names": names.map(|n| n.len().to_string()).unwrap_or_else(|e| format!("error: {e:#}")),
        })
    );
    Ok(())
}

/// Installs `file` as `manifest`'s spec (under its own name, the manifest's `spec` line
/// rewritten and the old file removed when the name differs) and writes the lock for it.
fn update(
    manifest: &capa_gen::manifest::Manifest,
    file: &std::path::Path,
    methods: &[capa_gen::upgrade::Method],
    types: &std::collections::BTreeMap<String, capa_gen::upgrade::Shape>,
) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let name = file.file_name().context("the new spec has no file name")?.to_string_lossy().into_owned();
    let old = manifest.spec_path();
    let new = manifest.dir.join(&name);
    std::fs::write(&new, &bytes).with_context(|| format!("writing {}", new.display()))?;
    if name != manifest.spec.display().to_string() {
        let manifest_file = manifest.dir.join("capa.toml");
        let text = std::fs::read_to_string(&manifest_file)?;
        let mut found = false;
        let rewritten: Vec<String> = text
            .lines()
            .map(|line| {
                if !found && line.trim_start().starts_with("spec") && line.contains('=') {
                    found = true;
                    format!("spec = {name:?}")
                } else {
                    line.to_owned()
                }
            })
            .collect();
        if !found {
            bail!("{}: no `spec = ` line to rewrite", manifest_file.display());
        }
        std::fs::write(&manifest_file, rewritten.join("\n") + "\n")?;
        if old.exists() && old != new {
            std::fs::remove_file(&old)?;
        }
    }
    let lock = capa_gen::upgrade::Lock::new(&name, &bytes, methods, types);
    std::fs::write(capa_gen::upgrade::lock_path(manifest), lock.text())?;
    Ok(())
}

fn run() -> Result<ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = capa_gen::repo_root();
    let (command, names) = args.split_first().context("usage: capa-gen build|check|methods [provider...]")?;
    let providers = if names.is_empty() { capa_gen::providers(&root)? } else { names.to_vec() };
    match command.as_str() {
        "build" | "check" => {
            let mut stale = Vec::new();
            for provider in &providers {
                let started = Instant::now();
                let out = capa_gen::generate(&capa_gen::manifest_path(&root, provider))?;
                let dir = root.join("generated").join(provider);
                std::fs::create_dir_all(&dir)?;
                // The lock's table digest is the generator's to keep current (its spec hash
                // was checked by `generate`).
                let (lock_path, lock) = &out.lock;
                let lock_text = lock.text();
                let generated = out.files.iter().map(|f| (dir.join(f.name), &f.text)).chain([(lock_path.clone(), &lock_text)]);
                for (path, text) in generated {
                    let current = std::fs::read_to_string(&path).unwrap_or_default();
                    if current == *text {
                        continue;
                    }
                    if command == "check" {
                        stale.push(path.display().to_string());
                    } else {
                        // Written only when changed: cargo rebuilds on mtime.
                        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
                    }
                }
                eprintln!(
                    "capa-gen: {provider}: {} file(s) in {:.0?}{}{}",
                    out.files.len(),
                    started.elapsed(),
                    if out.skipped.is_empty() { String::new() } else { format!(", {} operation(s) skipped (see methods.txt)", out.skipped.len()) },
                    if out.warnings == 0 { String::new() } else { format!(", {} spec warning(s) (see methods.txt)", out.warnings) }
                );
            }
            if !stale.is_empty() {
                eprintln!("capa-gen: out of date (run `npm run regen`):\n  {}", stale.join("\n  "));
                return Ok(ExitCode::from(1));
            }
        }
        "methods" => {
            let [provider] = names else { bail!("usage: capa-gen methods <provider>") };
            let out = capa_gen::generate(&capa_gen::manifest_path(&root, provider))?;
            let methods = out.files.iter().find(|f| f.name == "methods.txt").context("no method table")?;
            print!("{}", methods.text);
        }
        "table" => {
            let [provider] = names else { bail!("usage: capa-gen table <provider>") };
            println!("{}", capa_gen::table(&capa_gen::manifest_path(&root, provider))?);
        }
        "stats" => {
            let [spec] = names else { bail!("usage: capa-gen stats <spec-file>") };
            stats(std::path::Path::new(spec))?;
        }
        "verify" => {
            let mut failed = false;
            for provider in &providers {
                let manifest = capa_gen::manifest::Manifest::load(&capa_gen::manifest_path(&root, provider))?;
                let spec = capa_gen::spec::Spec::load(&manifest.spec_path())?;
                let mut report = capa_gen::check::check(&root, &manifest, &spec);
                report.errors.extend(capa_gen::rights_errors(&root, &capa_gen::manifest_path(&root, provider))?);
                println!("{provider}: {}", if report.errors.is_empty() { "ok" } else { "FAILS" });
                for e in &report.errors {
                    println!("  error: {e}");
                }
                for w in &report.warnings {
                    println!("  warning: {w}");
                }
                for h in &report.handles {
                    println!("  handle {h}");
                }
                failed |= !report.errors.is_empty();
            }
            if failed {
                return Ok(ExitCode::from(1));
            }
        }
        "diff" | "update" => {
            // `diff <provider> <new> [--from <old>]`: old defaults to the installed spec.
            let (provider, file, from_file) = match names {
                [provider, file] => (provider, file, None),
                [provider, file, flag, old] if command == "diff" && flag == "--from" => (provider, file, Some(std::path::PathBuf::from(old))),
                _ => bail!("usage: capa-gen diff <provider> <spec-file> [--from <old-spec-file>] | capa-gen update <provider> <spec-file>"),
            };
            let manifest_path = capa_gen::manifest_path(&root, provider);
            let installed = capa_gen::manifest::Manifest::load(&manifest_path)?.spec_path();
            let from_file = from_file.unwrap_or(installed);
            let (manifest, old, old_types) = capa_gen::methods_of(&manifest_path, &from_file)?;
            let file = std::path::Path::new(file);
            let (_, new, new_types) = capa_gen::methods_of(&manifest_path, file)?;
            let from = from_file.file_name().map_or_else(|| from_file.display().to_string(), |f| f.to_string_lossy().into_owned());
            let to = file.display().to_string();
            let mut diff = capa_gen::upgrade::diff(&old, &new);
            capa_gen::upgrade::diff_types(&mut diff, &old_types, &new_types);
            print!("{}", capa_gen::upgrade::render(provider, &from, &to, &diff));
            if command == "update" {
                update(&manifest, file, &new, &new_types)?;
                eprintln!("capa-gen: {provider}: installed {to}, locked it, regenerating");
                let out = capa_gen::generate(&manifest_path)?;
                let dir = root.join("generated").join(provider);
                std::fs::create_dir_all(&dir)?;
                for f in &out.files {
                    std::fs::write(dir.join(f.name), &f.text)?;
                }
            }
        }
        other => bail!("unknown command {other:?}; expected build, check, verify, methods, table, stats, diff or update"),
    }
    Ok(ExitCode::SUCCESS)
}
