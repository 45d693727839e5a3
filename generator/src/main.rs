//! `capa-gen`: the build-time generator's command line.
//!
//! ```text
//! capa-gen build [provider...]   write generated/<provider>/ (all providers when none named)
//! capa-gen check [provider...]   fail if generated/<provider>/ is not what build would write
//! capa-gen methods <provider>    print the method table
//! capa-gen table <provider>      print the method table as JSON (for tests)
//! capa-gen stats <spec-file>     parse, model and name a spec with no manifest; print timings
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
                for file in &out.files {
                    let path = dir.join(file.name);
                    let current = std::fs::read_to_string(&path).unwrap_or_default();
                    if current == file.text {
                        continue;
                    }
                    if command == "check" {
                        stale.push(path.display().to_string());
                    } else {
                        // Written only when changed: cargo rebuilds on mtime.
                        std::fs::write(&path, &file.text).with_context(|| format!("writing {}", path.display()))?;
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
        other => bail!("unknown command {other:?}; expected build, check, methods, table or stats"),
    }
    Ok(ExitCode::SUCCESS)
}
