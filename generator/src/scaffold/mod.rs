//! The scaffold: a new provider's manifest inferred from its spec (`capa-gen add`, which
//! `npm run add-provider -- <name> <spec>` runs), and what to do next once it is built.
//!
//! A manifest holds the few facts a spec does not say; most of what a new user hand-wrote was
//! facts a spec *does* say, in its `securitySchemes`, its servers and its response shapes. The
//! scaffold reads them and writes a commented `capa.toml` a user need not edit where the spec
//! is plain, and says what it inferred and what it could not:
//!
//! - [`auth`]: `[auth]` and `[auth.schemes.<name>]` from the spec's schemes and what each
//!   operation asks for, handles named after the capability;
//! - [`hints`]: `upstream.error_object`, `request_id_header` and `[upstream.soft_error]` where
//!   the responses show them; a credential declared as a parameter flagged; the servers
//!   a credential would travel to;
//! - [`guide`]: the next steps printed after the build (secrets, the caller's binding block,
//!   types, methods by class, example calls with real names).
//!
//! Refusals are errors naming the fix: a plain `http://` server that would carry a credential
//! (correct the spec, or pass `--allow-http`), a relative server with no `--origin`. The scaffold
//! writes no file itself: [`plan`] returns the text, and the command writes it where the
//! checkout's layout says ([`crate::repo`]), then locks, generates and checks as for any provider.

pub mod auth;
pub mod guide;
pub mod hints;

use crate::fit::is_loopback;
use crate::spec::Spec;
use anyhow::{bail, Result};
use std::fmt::Write;

/// Something the scaffold tells its user.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    /// `inferred`, `note`, `flag` or `warning`.
    pub level: &'static str,
    /// The sentence.
    pub text: String,
}

impl Note {
    /// What was read from the spec and written.
    pub fn inferred(text: impl Into<String>) -> Note {
        Note { level: "inferred", text: text.into() }
    }
    /// For information.
    pub fn info(text: impl Into<String>) -> Note {
        Note { level: "note", text: text.into() }
    }
    /// A setting the spec shows that the manifest cannot say yet.
    pub fn flag(text: impl Into<String>) -> Note {
        Note { level: "flag", text: text.into() }
    }
    /// Worth a look before deploying.
    pub fn warn(text: impl Into<String>) -> Note {
        Note { level: "warning", text: text.into() }
    }
}

/// What the user asked for beyond the name and spec.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// `--origin https://host`: resolves relative servers.
    pub origin: Option<String>,
    /// `--allow-http`: a plain http:// server may carry the credential.
    pub allow_http: bool,
}

/// The scaffold for one provider.
#[derive(Debug)]
pub struct Plan {
    /// `capa.toml`'s text.
    pub manifest: String,
    /// What it inferred, noted and flagged.
    pub notes: Vec<Note>,
}

/// Whether `name` may name a provider: a wrangler env, a directory, part of a Worker's name.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.as_bytes()[0].is_ascii_lowercase()
        && !name.ends_with('-')
}

/// The manifest for a provider `name` whose spec is `spec` (installed as `spec_file`).
pub fn plan(spec: &Spec, name: &str, spec_file: &str, options: &Options) -> Result<Plan> {
    if !valid_name(name) {
        bail!("{name:?} cannot name a provider: lowercase letters, digits and `-`, starting with a letter (it becomes the wrangler env and the Worker `capa-{name}`)");
    }
    let inferred = auth::infer(spec, name);
    let mut notes = Vec::new();
    let binding = auth::shout(name);
    let title = spec.doc.pointer("/info/title").and_then(|v| v.as_str()).unwrap_or(name);
    let version = spec.doc.pointer("/info/version").and_then(|v| v.as_str()).unwrap_or("?");

    // Servers: where the credential goes.
    let servers = hints::servers(spec);
    let sends = inferred.with_credential > 0 || inferred.unspecified.is_some();
    let relative: Vec<&String> = servers.iter().filter(|s| s.starts_with('/')).collect();
    if (servers.is_empty() || !relative.is_empty()) && options.origin.is_none() {
        let what = if servers.is_empty() { "names no server (OpenAPI then means `/`)".to_owned() } else { format!("has a relative server ({})", relative[0]) };
        bail!("the spec {what}: say where the API lives with --origin https://api.example.com (it becomes upstream.origin)");
    }
    if let Some(origin) = &options.origin {
        if !(origin.starts_with("https://") || origin.starts_with("http://")) || origin.trim_end_matches('/').matches('/').count() > 2 {
            bail!("--origin {origin:?} must be scheme://host[:port], no path");
        }
    }
    let resolved: Vec<String> = servers.iter().map(|s| if s.starts_with('/') { format!("{}{s}", options.origin.as_deref().unwrap_or("").trim_end_matches('/')) } else { s.clone() }).collect();
    let plain: Vec<&String> = resolved.iter().filter(|s| s.starts_with("http://") && !is_loopback(s)).collect();
    if sends && !plain.is_empty() && !options.allow_http {
        bail!(
            "the spec's server {} is plain http://: the credential would travel in the clear. If the API is served over https, correct the \
             spec's `servers` (https://…) and run again; to send it in the clear knowingly, add --allow-http (it writes upstream.allow_http = true)",
            plain[0]
        );
    }

    let mut m = String::new();
    let w = &mut m;
    let _ = writeln!(w, "# capa-rs manifest for {title}, version {version}.");
    let _ = writeln!(w, "# Written by `npm run add-provider` from the spec's securitySchemes, servers and responses;");
    let _ = writeln!(w, "# every key: docs/providers.md, \"Manifests\".");
    let _ = writeln!(w, "capability = {name:?}");
    let _ = writeln!(w, "spec = {spec_file:?}");
    let default = inferred.default.clone();
    let secret = default.as_ref().map_or_else(|| format!("{binding}_TOKEN"), |d| d.secret.clone());
    let _ = writeln!(w, "# wrangler secret put {secret} --env {name}");
    let _ = writeln!(w, "secret = {secret:?}");
    let _ = writeln!(w, "# The service binding name callers use: env.{binding}.<resource>.<method>(...)");
    let _ = writeln!(w, "binding = {binding:?}");
    let _ = writeln!(w);
    let _ = writeln!(w, "[auth]");
    match &default {
        Some(d) => {
            for c in &d.comments {
                let _ = writeln!(w, "# {c}");
            }
            let _ = writeln!(w, "scheme = {:?}", d.scheme);
            for (k, v) in &d.keys {
                let _ = writeln!(w, "{k} = {v}");
            }
            notes.push(Note::inferred(format!(
                "[auth]: {} from the spec's `{}` (secret {}){}",
                d.scheme,
                d.spec_name,
                d.secret,
                d.keys.iter().map(|(k, v)| format!(", {k} = {v}")).collect::<String>()
            )));
        }
        None => {
            let _ = writeln!(w, "# The spec declares no security scheme a Worker runs: no operation sends a credential. A");
            let _ = writeln!(w, "# manifest names one all the same; a caller may still pass a token per call.");
            let _ = writeln!(w, "scheme = \"bearer\"");
            notes.push(Note::inferred("[auth]: none stated by the spec (a bearer placeholder: no operation sends it)"));
        }
    }
    if let Some((value, why)) = &inferred.unspecified {
        let _ = writeln!(w, "# {why}.");
        let _ = writeln!(w, "unspecified = {value:?}");
        notes.push(Note::inferred(format!("unspecified = {value:?}: {why}")));
    }
    // [auth] params: parameters and body fields named as credentials, but for a scheme's own key
    // (which the scheme fills where the spec puts it; flagged below when it is also elsewhere).
    // Written for real where a plain credential name (`token`) is on at least half the
    // operations; else commented: GitHub's `token` on a few operations is the OAuth token it
    // checks, Stripe's `client_secret` a PaymentIntent's, each a caller's to pass.
    let scheme_keys: Vec<String> = default
        .iter()
        .chain(&inferred.named)
        .flat_map(|e| e.keys.iter().filter(|(k, _)| k == "name" || k == "header").map(|(_, v)| v.trim_matches('"').to_ascii_lowercase()))
        .collect();
    let of = spec.doc.get("paths").and_then(|p| p.as_object()).map_or(0, |p| p.values().map(|i| crate::model::METHODS.iter().filter(|m| i.get(**m).is_some()).count()).sum::<usize>());
    let (sure, unsure): (Vec<_>, Vec<_>) = hints::credential_fields(spec).into_iter().filter(|f| !scheme_keys.contains(&f.name.to_ascii_lowercase())).partition(|f| f.sure && f.operations * 2 >= of && !f.name.contains('.'));
    let handle = |name: &str| format!("{binding}_{}", name.to_ascii_uppercase().replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
    let place = |f: &hints::CredentialField| format!("{}, on {} of {of} operations", f.places.join(", "), f.operations);
    if !sure.is_empty() {
        let _ = writeln!(w, "# Credentials the spec declares as parameters or body fields, each filled from its handle");
        let _ = writeln!(w, "# wherever an operation declares it, never the caller's (docs/auth.md):");
        for f in &sure {
            let _ = writeln!(w, "#   `{}`: {}", f.name, place(f));
            notes.push(Note::inferred(format!("[auth] params: `{}` ({}) from {}", f.name, place(f), handle(&f.name))));
        }
        let entries: Vec<String> = sure.iter().map(|f| format!("{} = {:?}", toml_key(&f.name), handle(&f.name))).collect();
        let _ = writeln!(w, "params = {{ {} }}", entries.join(", "));
    }
    if !unsure.is_empty() {
        for f in &unsure {
            let _ = writeln!(w, "# `{}` ({}) may be a credential; if it is, have it filled from a handle:", f.name, place(f));
            notes.push(Note::flag(format!("`{}` ({}) may be a credential: if it is, name it in [auth] params", f.name, place(f))));
        }
        let entries: Vec<String> = unsure.iter().map(|f| format!("{} = {:?}", toml_key(&f.name), handle(&f.name))).collect();
        match sure.is_empty() {
            true => _ = writeln!(w, "# params = {{ {} }}", entries.join(", ")),
            false => _ = writeln!(w, "# (add to params above: {})", entries.join(", ")),
        }
    }
    for e in &inferred.named {
        let _ = writeln!(w);
        let _ = writeln!(w, "[auth.schemes.{}]", toml_key(&e.spec_name));
        for c in &e.comments {
            let _ = writeln!(w, "# {c}");
        }
        let _ = writeln!(w, "scheme = {:?}", e.scheme);
        let _ = writeln!(w, "secret = {:?}", e.secret);
        for (k, v) in &e.keys {
            let _ = writeln!(w, "{k} = {v}");
        }
        notes.push(Note::inferred(format!(
            "[auth.schemes.{}]: {} (secret {}) for {} operation(s){}",
            e.spec_name,
            e.scheme,
            e.secret,
            e.operations,
            e.keys.iter().map(|(k, v)| format!(", {k} = {v}")).collect::<String>()
        )));
    }

    // [upstream]: what the responses and servers show.
    let error_object = hints::error_object(spec);
    let request_id = hints::request_id_header(spec);
    let mut upstream = Vec::new();
    if let Some(origin) = &options.origin {
        upstream.push(format!("# The spec's servers are relative (or none): they resolve against this origin.\norigin = {origin:?}"));
        notes.push(Note::inferred(format!("upstream.origin = {origin:?} (from --origin)")));
    }
    if options.allow_http && !plain.is_empty() {
        upstream.push(format!("# {} is plain http://: the credential travels in the clear there (asked for with --allow-http).\nallow_http = true", plain[0]));
        notes.push(Note::warn(format!("upstream.allow_http = true: the credential travels in the clear to {}", plain[0])));
    }
    if let Some(h) = &request_id {
        upstream.push(format!("# The responses declare this header: receipts carry its value.\nrequest_id_header = {h:?}"));
        notes.push(Note::inferred(format!("upstream.request_id_header = {h:?}")));
    }
    if let Some(k) = &error_object {
        upstream.push(format!("# The error responses hold their error object under this key.\nerror_object = {k:?}"));
        notes.push(Note::inferred(format!("upstream.error_object = {k:?}")));
    }
    let variables: Vec<String> = spec
        .doc
        .get("servers")
        .and_then(|s| s.as_array())
        .and_then(|a| a.first())
        .and_then(|s| s.get("variables"))
        .and_then(|v| v.as_object())
        .map(|v| v.iter().map(|(k, d)| format!("{k} = {}", d.get("default").map(|x| x.to_string()).unwrap_or_else(|| "?".into()))).collect())
        .unwrap_or_default();
    if !variables.is_empty() {
        upstream.push(format!("# The server's variables take their defaults ({}); set others here:\n# server_variables = {{ {} }}", variables.join(", "), variables.join(", ")));
    }
    if !upstream.is_empty() {
        let _ = writeln!(w, "\n[upstream]");
        for u in upstream {
            let _ = writeln!(w, "{u}");
        }
    }
    if let Some((flag, error, n)) = hints::soft_errors(spec) {
        let _ = writeln!(
            w,
            "\n[upstream.soft_error]\n# {n} operation(s) answer success bodies with a boolean `{flag}` beside `{error}`: a 2xx whose `{flag}` is false\n# is upstream_error, its message from `{error}`.\nmember = {flag:?}\nequals = false\nmessage = {error:?}"
        );
        notes.push(Note::inferred(format!("upstream.soft_error: `{flag}` false means failure, the message in `{error}` ({n} operation(s))")));
    }
    let key_names: Vec<(String, String)> = crate::security::kinds(spec)
        .values()
        .filter_map(|k| match k {
            crate::security::Kind::Key { place, name } => Some((place.clone(), name.clone())),
            _ => None,
        })
        .collect();
    let flags = hints::flags(spec, &key_names);
    if !flags.is_empty() {
        let _ = writeln!(w, "\n# Flagged:");
        for f in &flags {
            let _ = writeln!(w, "# - {}", f.text);
        }
    }
    notes.extend(inferred.notes);
    notes.extend(flags);
    Ok(Plan { manifest: m, notes })
}

/// A TOML key: bare when it can be.
fn toml_key(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        s.to_owned()
    } else {
        format!("{s:?}")
    }
}

/// The `[env.<name>]` block `wrangler.toml` needs (the one [`crate::check`] asks for).
pub fn wrangler_block(name: &str) -> String {
    format!("[env.{name}]\nname = \"capa-{name}\"\nmain = \"generated/{name}/entry.js\"\nbuild = {{ command = \"bash scripts/build.sh {name}\" }}\n")
}

/// `wrangler.toml`'s text with `[env.<name>]` added at the end, unless it has one already
/// (`None`).
pub fn add_env(wrangler: &str, name: &str) -> Result<Option<String>> {
    let config: toml::Table = wrangler.parse().map_err(|e| anyhow::anyhow!("wrangler.toml does not parse: {e}"))?;
    if config.get("env").and_then(|e| e.get(name)).is_some() {
        return Ok(None);
    }
    let mut out = wrangler.trim_end().to_owned();
    let _ = write!(out, "\n\n# Added by `npm run add-provider`.\n{}", wrangler_block(name));
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(servers: serde_json::Value) -> Spec {
        Spec::from_value(json!({
            "openapi": "3.0.3", "info": { "title": "T", "version": "1" }, "servers": servers,
            "paths": { "/a": { "get": { "responses": { "200": { "description": "ok" } } } } },
            "security": [{ "k": [] }],
            "components": { "securitySchemes": { "k": { "type": "apiKey", "in": "header", "name": "X-Key" } } },
        }))
        .unwrap()
    }

    #[test]
    fn a_soft_error_shape_in_success_bodies_writes_the_rule() {
        let ok = json!({ "description": "ok", "content": { "application/json": { "schema": { "type": "object", "properties": { "ok": { "type": "boolean" }, "error": { "type": "string" } } } } } });
        let s = Spec::from_value(json!({
            "openapi": "3.0.3", "info": { "title": "T", "version": "1" }, "servers": [{ "url": "https://api.example.com" }],
            "paths": { "/a": { "get": { "responses": { "200": ok } } } },
            "security": [{ "k": [] }],
            "components": { "securitySchemes": { "k": { "type": "http", "scheme": "bearer" } } },
        }))
        .unwrap();
        let p = plan(&s, "acme", "spec.json", &Options::default()).unwrap();
        assert!(p.manifest.contains("[upstream.soft_error]\n"), "{}", p.manifest);
        let m: crate::manifest::Manifest = toml::from_str(&p.manifest).unwrap();
        let soft = m.upstream.soft_error.expect("the rule");
        assert_eq!((soft.member.as_str(), soft.equals_json().as_str(), soft.message.as_deref(), soft.marker().as_str()), ("ok", "false", Some("error"), "\"ok\""));
    }

    #[test]
    fn credential_parameters_are_written_into_auth_params_plain_names_real_others_commented() {
        let ok = json!({ "200": { "description": "ok" } });
        let s = Spec::from_value(json!({
            "openapi": "3.0.3", "info": { "title": "T", "version": "1" }, "servers": [{ "url": "https://api.example.com" }],
            "paths": {
                "/a": { "get": { "parameters": [{ "name": "token", "in": "query", "schema": { "type": "string" } }, { "name": "key", "in": "query", "schema": { "type": "string" } }], "responses": ok } },
                "/b": { "get": { "parameters": [{ "name": "token", "in": "header", "schema": { "type": "string" } }, { "name": "api_key", "in": "query", "schema": { "type": "string" } }, { "name": "client_secret", "in": "query", "schema": { "type": "string" } }], "responses": ok } },
                "/c": { "post": {
                    "requestBody": { "content": { "application/x-www-form-urlencoded": { "schema": { "type": "object", "required": ["token"], "properties": { "token": { "type": "string" }, "text": { "type": "string" } } } } } },
                    "responses": ok } },
            },
            "security": [{ "k": [] }],
            "components": { "securitySchemes": { "k": { "type": "apiKey", "in": "query", "name": "api_key" } } },
        }))
        .unwrap();
        let p = plan(&s, "acme", "spec.json", &Options::default()).unwrap();
        // `token` is plainly one (three places); `key` may be; `api_key` is the scheme's own key.
        assert!(p.manifest.contains("params = { token = \"ACME_TOKEN\" }\n"), "{}", p.manifest);
        assert!(p.manifest.contains("#   `token`: query, header, body, on 3 of 3 operations"), "{}", p.manifest);
        // A plain name on one operation in three is commented too: a caller's, as often as not.
        assert!(p.manifest.contains("# (add to params above: client_secret = \"ACME_CLIENT_SECRET\", key = \"ACME_KEY\")"), "{}", p.manifest);
        assert!(!p.manifest.contains("api_key = "), "{}", p.manifest);
        // What it wrote is a manifest the generator reads and checks, and the model fills `token`
        // in each place.
        let dir = std::env::temp_dir().join(format!("capa-scaffold-params-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("capa.toml"), &p.manifest).unwrap();
        let m = crate::manifest::Manifest::load(&dir.join("capa.toml"));
        let _ = std::fs::remove_dir_all(&dir);
        let m = m.unwrap();
        assert_eq!(m.auth.params.get("token").map(String::as_str), Some("ACME_TOKEN"));
        let model = crate::model::build(&s, &m).unwrap();
        let places: Vec<_> = model.operations.iter().flat_map(|o| o.credentials.iter().map(|c| (c.name.as_str(), c.at))).collect();
        use crate::model::CredentialAt;
        assert_eq!(places, [("token", CredentialAt::Query), ("token", CredentialAt::Header), ("token", CredentialAt::Body)]);
        // None of them: nothing written.
        let plain = plan(&spec(json!([{ "url": "https://api.example.com" }])), "acme", "spec.json", &Options::default()).unwrap();
        assert!(!plain.manifest.contains("params"), "{}", plain.manifest);
    }

    #[test]
    fn a_plain_http_server_with_a_credential_is_refused_naming_the_fix() {
        let e = plan(&spec(json!([{ "url": "http://api.example.com" }])), "acme", "spec.json", &Options::default()).unwrap_err().to_string();
        assert!(e.contains("plain http://") && e.contains("--allow-http") && e.contains("https"), "{e}");
        let p = plan(&spec(json!([{ "url": "http://api.example.com" }])), "acme", "spec.json", &Options { allow_http: true, ..Default::default() }).unwrap();
        assert!(p.manifest.contains("allow_http = true"));
        // Loopback is no wire.
        assert!(plan(&spec(json!([{ "url": "http://127.0.0.1:8080" }])), "acme", "spec.json", &Options::default()).is_ok());
    }

    #[test]
    fn a_relative_server_needs_an_origin() {
        let e = plan(&spec(json!([{ "url": "/v1" }])), "acme", "spec.json", &Options::default()).unwrap_err().to_string();
        assert!(e.contains("--origin"), "{e}");
        let p = plan(&spec(json!([{ "url": "/v1" }])), "acme", "spec.json", &Options { origin: Some("https://api.acme.com".into()), ..Default::default() }).unwrap();
        assert!(p.manifest.contains("origin = \"https://api.acme.com\""));
    }

    #[test]
    fn the_manifest_written_is_one_the_generator_reads() {
        let p = plan(&spec(json!([{ "url": "https://api.example.com" }])), "acme-pay", "spec.json", &Options::default()).unwrap();
        let dir = std::env::temp_dir().join(format!("capa-scaffold-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("capa.toml"), &p.manifest).unwrap();
        let m = crate::manifest::Manifest::load(&dir.join("capa.toml")).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!((m.secret.as_str(), m.binding.as_str(), m.auth.header.as_deref()), ("ACME_PAY_API_KEY", "ACME_PAY", Some("X-Key")));
        assert!(!p.manifest.contains("jwt"));
    }

    #[test]
    fn names_and_the_wrangler_env() {
        assert!(valid_name("acme-pay") && !valid_name("Acme") && !valid_name("-a") && !valid_name("a_b") && !valid_name(""));
        let w = add_env("name = \"x\"\n\n[env.stripe]\nname = \"capa-stripe\"\n", "acme").unwrap().unwrap();
        assert!(w.ends_with(&wrangler_block("acme")));
        assert!(add_env(&w, "acme").unwrap().is_none());
        assert!(add_env(&w, "stripe").unwrap().is_none());
    }
}
