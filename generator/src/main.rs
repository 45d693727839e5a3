//! `capa-gen`: the build-time generator's command line. `capa-gen help` lists the commands
//! ([`HELP`]); `capa-gen help <command>` (or `<command> --help`) describes one.
//!
//! It works on the checkout it runs in: the nearest directory upwards holding a `wrangler.toml`
//! and `openapi/` ([`capa_gen::repo::repo_root`]), never the path it was compiled at. Output goes
//! through [`out`], so a closed pipe (`capa-gen methods stripe | head -1`) ends it quietly.

use anyhow::{bail, Context, Result};
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

/// Every command: name, arguments, what it does (one line), and more (the help of the command).
const COMMANDS: &[(&str, &str, &str, &str)] = &[
    ("add", "<name> <spec-file> [--force] [--origin <https://host>] [--allow-http]",
     "add a provider from its OpenAPI spec (npm run add-provider)",
     "Installs the spec (JSON or YAML) as openapi/<name>/<file>, writes openapi/<name>/capa.toml inferred\n\
      from the spec's securitySchemes, servers and responses (commented: what it read, what it flags),\n\
      adds [env.<name>] to wrangler.toml, locks the spec, generates generated/<name>/ and runs the deploy\n\
      check. Refuses an existing provider unless --force. --origin: where a spec with relative servers\n\
      (or none) lives. --allow-http: let a credential travel to a plain http:// server.\n\
      npm run add-provider also builds the Worker and prints the next steps (capa-gen guide)."),
    ("guide", "<provider>", "the next steps for a provider: secrets, binding block, types, methods by class, example calls", ""),
    ("declare", "<provider> <folder>", "write <folder>/<provider>.d.ts for a caller in its own repository (npm run declare)",
     "The provider's declarations as one file needing only @cloudflare/workers-types, and the\n\
      [[services]] block for the caller's wrangler.toml on stdout. Run it again after a spec upgrade."),
    ("build", "[provider...]", "write generated/<provider>/ (every provider when none is named; npm run regen)", ""),
    ("check", "[provider...]", "fail if generated/<provider>/ is not what build would write", ""),
    ("verify", "[provider...]", "the deploy check: manifest against spec and wrangler.toml (npm run check)", ""),
    ("methods", "<provider>", "print the method table (npm run methods)", ""),
    ("table", "<provider>", "print the method table as JSON (for tests)", ""),
    ("stats", "<spec-file>", "what a spec would generate, with no manifest: operations, skipped ones and why, timings (JSON)",
     "Parses, models and names the spec under a stand-in manifest (a bearer token, required where the\n\
      spec is silent) and prints JSON: operations, skipped (and why), spec warnings, the method count\n\
      and each stage's time. Try a spec before adding it."),
    ("diff", "<provider> <spec-file> [--from <old-spec-file>]", "what moving to that spec changes (npm run spec-diff)", ""),
    ("update", "<provider> <spec-file>", "install that spec, lock it, regenerate (npm run spec-update)", ""),
    ("help", "[command]", "this list, or one command's help", ""),
];

/// The help text: every command with its arguments.
fn help() -> String {
    let mut s = String::from("capa-gen: an OpenAPI spec and a manifest become a capability Worker (capa-rs).\n\nusage: capa-gen <command> [arguments]\n\ncommands:\n");
    for (name, args, what, _) in COMMANDS {
        s.push_str(&format!("  {name} {args}\n      {what}\n"));
    }
    s.push_str("\ncapa-gen help <command> (or <command> --help) describes one. It works on the checkout it runs in:\nthe nearest directory upwards with a wrangler.toml and openapi/.\n");
    s
}

/// One command's help.
fn command_help(command: &str) -> Option<String> {
    COMMANDS.iter().find(|c| c.0 == command).map(|(name, args, what, more)| {
        let mut s = format!("usage: capa-gen {name} {args}\n\n{what}\n");
        if !more.is_empty() {
            s.push_str(&format!("\n{more}\n"));
        }
        s
    })
}

/// A usage error naming the command and what it expects.
fn usage(command: &str) -> anyhow::Error {
    let args = COMMANDS.iter().find(|c| c.0 == command).map_or("", |c| c.1);
    anyhow::anyhow!("usage: capa-gen {command} {args}  (capa-gen help {command})")
}

/// Writes to stdout; a closed pipe is an [`std::io::ErrorKind::BrokenPipe`] error, which
/// [`main`] ends quietly.
fn out(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        // The reader went away (`| head -1`): nothing more to say to anyone.
        Err(e) if e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) => ExitCode::SUCCESS,
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
    out(&format!(
        "{}\n",
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
    ))
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
    let Some((command, names)) = args.split_first() else {
        eprint!("{}", help());
        return Ok(ExitCode::from(2));
    };
    let command = command.as_str();
    match command {
        "help" | "--help" | "-h" => {
            match names {
                [] => out(&help())?,
                [c] if c == "--help" || c == "-h" => out(&command_help("help").unwrap_or_default())?,
                [c] => out(&command_help(c).with_context(|| format!("no command {c:?}; `capa-gen help` lists them"))?)?,
                _ => return Err(usage("help")),
            }
            return Ok(ExitCode::SUCCESS);
        }
        _ if names.iter().any(|a| a == "--help" || a == "-h") => {
            out(&command_help(command).with_context(|| format!("unknown command {command:?}; `capa-gen help` lists them"))?)?;
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    if !COMMANDS.iter().any(|c| c.0 == command) {
        bail!("unknown command {command:?}; `capa-gen help` lists them");
    }
    let root = capa_gen::repo_root();
    if command != "stats" && capa_gen::repo::find_root(&root).is_none() {
        bail!("{}: not in a capa-rs checkout (no directory upwards holds wrangler.toml and openapi/)", root.display());
    }
    let providers = || -> Result<Vec<String>> { if names.is_empty() { capa_gen::providers(&root) } else { Ok(names.to_vec()) } };
    match command {
        "build" | "check" => {
            let mut stale = Vec::new();
            for provider in &providers()? {
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
            let [provider] = names else { return Err(usage(command)) };
            let generated = capa_gen::generate(&capa_gen::manifest_path(&root, provider))?;
            let methods = generated.files.iter().find(|f| f.name == "methods.txt").context("no method table")?;
            out(&methods.text)?;
        }
        "table" => {
            let [provider] = names else { return Err(usage(command)) };
            out(&format!("{}\n", capa_gen::table(&capa_gen::manifest_path(&root, provider))?))?;
        }
        "stats" => {
            let [spec] = names else { return Err(usage(command)) };
            stats(std::path::Path::new(spec))?;
        }
        "guide" => {
            let [provider] = names else { return Err(usage(command)) };
            out(&capa_gen::guide(&root, provider)?)?;
        }
        "declare" => {
            let [provider, folder] = names else { return Err(usage(command)) };
            let (text, block) = capa_gen::declare(&root, provider)?;
            let folder = std::path::Path::new(folder);
            std::fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
            let file = folder.join(format!("{provider}.d.ts"));
            std::fs::write(&file, text).with_context(|| format!("writing {}", file.display()))?;
            eprintln!("capa-gen: wrote {}; bind the capability in the caller's wrangler.toml:", file.display());
            out(&block)?;
        }
        "add" => {
            let mut positional = Vec::new();
            let mut options = capa_gen::scaffold::Options::default();
            let mut force = false;
            let mut rest = names.iter();
            while let Some(a) = rest.next() {
                match a.as_str() {
                    "--force" => force = true,
                    "--allow-http" => options.allow_http = true,
                    "--origin" => options.origin = Some(rest.next().ok_or_else(|| usage(command))?.clone()),
                    flag if flag.starts_with("--") => bail!("add: unknown option {flag:?}\n{}", usage(command)),
                    _ => positional.push(a),
                }
            }
            let [name, spec] = positional.as_slice() else { return Err(usage(command)) };
            let started = Instant::now();
            let added = capa_gen::add(&root, name, std::path::Path::new(spec), &options, force)?;
            let mut text = format!("capa-gen: added {name}: wrote {}\n", added.manifest.strip_prefix(&root).unwrap_or(&added.manifest).display());
            for n in &added.notes {
                text.push_str(&format!("  {}: {}\n", n.level, n.text));
            }
            text.push_str(&format!("  {}\n  {} in {:.1?}\n", added.locked, added.generated, started.elapsed()));
            text.push_str(&format!("  deploy check: {}\n", if added.check.errors.is_empty() { "ok" } else { "FAILS" }));
            for e in &added.check.errors {
                text.push_str(&format!("    error: {e}\n"));
            }
            for w in &added.check.warnings {
                text.push_str(&format!("    warning: {w}\n"));
            }
            out(&text)?;
            if !added.check.errors.is_empty() {
                return Ok(ExitCode::from(1));
            }
        }
        "verify" => {
            let mut failed = false;
            let mut text = String::new();
            for provider in &providers()? {
                let manifest = capa_gen::manifest::Manifest::load(&capa_gen::manifest_path(&root, provider))?;
                let spec = capa_gen::spec::Spec::load(&manifest.spec_path())?;
                let mut report = capa_gen::check::check(&root, &manifest, &spec);
                report.errors.extend(capa_gen::rights_errors(&root, &capa_gen::manifest_path(&root, provider))?);
                text.push_str(&format!("{provider}: {}\n", if report.errors.is_empty() { "ok" } else { "FAILS" }));
                for e in &report.errors {
                    text.push_str(&format!("  error: {e}\n"));
                }
                for w in &report.warnings {
                    text.push_str(&format!("  warning: {w}\n"));
                }
                for h in &report.handles {
                    text.push_str(&format!("  handle {h}\n"));
                }
                failed |= !report.errors.is_empty();
            }
            out(&text)?;
            if failed {
                return Ok(ExitCode::from(1));
            }
        }
        "diff" | "update" => {
            // `diff <provider> <new> [--from <old>]`: old defaults to the installed spec.
            let (provider, file, from_file) = match names {
                [provider, file] => (provider, file, None),
                [provider, file, flag, old] if command == "diff" && flag == "--from" => (provider, file, Some(std::path::PathBuf::from(old))),
                _ => return Err(usage(command)),
            };
            let manifest_path = capa_gen::manifest_path(&root, provider);
            let installed = capa_gen::manifest::Manifest::load(&manifest_path)?;
            let file = std::path::Path::new(file);
            let (_, new, new_types) = capa_gen::methods_of(&manifest_path, file)?;
            let to = file.display().to_string();
            // A provider's first lock: what it pins, not a diff against nothing.
            let first = command == "update" && from_file.is_none() && !capa_gen::upgrade::lock_path(&installed).exists();
            if first {
                out(&format!("{provider}: locking {to} for the first time: {} method(s)\n", new.len()))?;
            } else {
                let from_file = from_file.unwrap_or_else(|| installed.spec_path());
                let (_, old, old_types) = capa_gen::methods_of(&manifest_path, &from_file)?;
                let from = from_file.file_name().map_or_else(|| from_file.display().to_string(), |f| f.to_string_lossy().into_owned());
                let mut diff = capa_gen::upgrade::diff(&old, &new);
                capa_gen::upgrade::diff_types(&mut diff, &old_types, &new_types);
                out(&capa_gen::upgrade::render(provider, &from, &to, &diff))?;
            }
            if command == "update" {
                update(&installed, file, &new, &new_types)?;
                eprintln!("capa-gen: {provider}: installed {to}, locked it, regenerating");
                let generated = capa_gen::generate(&manifest_path)?;
                let dir = root.join("generated").join(provider);
                std::fs::create_dir_all(&dir)?;
                for f in &generated.files {
                    std::fs::write(dir.join(f.name), &f.text)?;
                }
            }
        }
        _ => bail!("unknown command {command:?}; `capa-gen help` lists them"),
    }
    Ok(ExitCode::SUCCESS)
}
