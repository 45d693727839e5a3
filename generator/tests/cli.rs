//! `capa-gen` as a user meets it: help for every command, usage errors that name the command, a
//! closed pipe that ends it quietly, and the checkout found from the directory it runs in.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn capa_gen(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_capa-gen")).args(args).current_dir(cwd).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

const COMMANDS: &[&str] = &["add", "guide", "declare", "build", "check", "verify", "methods", "table", "stats", "diff", "update", "help"];

#[test]
fn help_describes_every_command_and_its_arguments() {
    for args in [&["help"][..], &["--help"], &["-h"]] {
        let (code, out, _) = capa_gen(&root(), args);
        assert_eq!(code, 0);
        for c in COMMANDS {
            assert!(out.contains(&format!("\n  {c} ")), "{c} missing from help:\n{out}");
        }
    }
    for c in COMMANDS {
        let (code, out, _) = capa_gen(&root(), &["help", c]);
        assert_eq!(code, 0, "help {c}");
        assert!(out.starts_with(&format!("usage: capa-gen {c} ")), "{out}");
        let (code, again, _) = capa_gen(&root(), &[c, "--help"]);
        assert_eq!((code, &again), (0, &out), "{c} --help");
    }
    let (_, stats, _) = capa_gen(&root(), &["help", "stats"]);
    assert!(stats.contains("<spec-file>") && stats.contains("stand-in manifest"), "{stats}");
}

#[test]
fn a_usage_error_names_the_command_and_what_it_expects() {
    let (code, _, err) = capa_gen(&root(), &["methods"]);
    assert_eq!(code, 2);
    assert!(err.contains("usage: capa-gen methods <provider>"), "{err}");
    let (code, _, err) = capa_gen(&root(), &["add", "acme"]);
    assert_eq!(code, 2);
    assert!(err.contains("usage: capa-gen add <name> <spec-file>"), "{err}");
    let (code, _, err) = capa_gen(&root(), &["frobnicate"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown command \"frobnicate\"") && err.contains("capa-gen help"), "{err}");
    let (code, _, err) = capa_gen(&root(), &[]);
    assert_eq!(code, 2);
    assert!(err.contains("usage: capa-gen <command>"), "{err}");
}

#[test]
fn a_closed_pipe_ends_it_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_capa-gen"))
        .args(["methods", "stripe"])
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    // `| head -1`: the reader is gone after one line.
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(first.starts_with("# stripe: "), "{first}");
    assert!(status.success(), "{status:?}: {err}");
    assert!(!err.contains("panicked") && err.is_empty(), "{err}");
}

#[test]
fn the_checkout_is_found_from_where_it_runs_not_where_it_was_built() {
    // From a directory deep inside: the checkout above it.
    let (code, out, err) = capa_gen(&root().join("tests/fixtures/auth/auth-basic"), &["methods", "auth-basic"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("# auth-basic: "), "{out}");
    // Outside any checkout: said so, with where it looked.
    let elsewhere = std::env::temp_dir().join(format!("capa-cli-{}", std::process::id()));
    std::fs::create_dir_all(&elsewhere).unwrap();
    let (code, _, err) = capa_gen(&elsewhere, &["methods", "stripe"]);
    // Another checkout (a wrangler.toml beside openapi/) is read, not this one.
    std::fs::create_dir_all(elsewhere.join("openapi")).unwrap();
    std::fs::write(elsewhere.join("wrangler.toml"), "name = \"x\"\n").unwrap();
    let (code2, _, err2) = capa_gen(&elsewhere, &["methods", "stripe"]);
    std::fs::remove_dir_all(&elsewhere).unwrap();
    assert_eq!(code, 2);
    assert!(err.contains("not in a capa-rs checkout"), "{err}");
    assert_eq!(code2, 2);
    assert!(err2.contains(&elsewhere.join("openapi/stripe/capa.toml").display().to_string()), "{err2}");
}

#[test]
fn a_first_spec_update_reports_what_it_locked_and_add_works_in_any_checkout() {
    // A checkout of its own: capa-gen reads the one it runs in.
    let dir = std::env::temp_dir().join(format!("capa-cli-first-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("openapi/acme")).unwrap();
    std::fs::write(dir.join("wrangler.toml"), "name = \"x\"\n").unwrap();
    let spec = dir.join("acme.yaml");
    std::fs::write(
        &spec,
        "openapi: 3.0.3\ninfo: { title: Acme, version: \"1\" }\nservers: [{ url: \"https://api.acme.example\" }]\nsecurity: [{ key: [] }]\n\
         paths:\n  /things:\n    get: { operationId: listThings, responses: { \"200\": { description: ok } } }\n    post: { operationId: createThing, responses: { \"201\": { description: ok } } }\n\
         components: { securitySchemes: { key: { type: apiKey, in: header, name: X-Acme-Key } } }\n",
    )
    .unwrap();

    // `add`: manifest inferred, env added, the first lock said, generated, checked.
    let (code, out, err) = capa_gen(&dir, &["add", "acme", spec.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("inferred: [auth]: header from the spec's `key` (secret ACME_API_KEY), header = \"X-Acme-Key\""), "{out}");
    assert!(out.contains("locked openapi/acme/acme.yaml: 2 method(s)") && out.contains("deploy check: ok"), "{out}");
    assert!(std::fs::read_to_string(dir.join("wrangler.toml")).unwrap().contains("[env.acme]"));
    assert!(dir.join("generated/acme/index.d.ts").exists());
    let (code, _, err) = capa_gen(&dir, &["add", "acme", spec.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("exists") && err.contains("--force"), "{err}");

    // `update` of a provider with no lock yet: what it locks, not a diff against nothing.
    std::fs::remove_file(dir.join("openapi/acme/capa.lock")).unwrap();
    let (code, out, err) = capa_gen(&dir, &["update", "acme", spec.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("acme: locking") && out.contains("for the first time: 2 method(s)"), "{out}");
    assert!(!out.contains("0 method(s) added"), "{out}");
}
