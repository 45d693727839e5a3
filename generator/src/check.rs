//! The deploy-time check of a provider's credentials: its manifest against its spec and against
//! `wrangler.toml`, before anything is built or deployed (`capa-gen verify <provider>`, which
//! `npm run check` runs; `capa-gen build` runs it too and fails on its errors).
//!
//! Values cannot be checked offline (a Worker secret is set with `wrangler secret put`, and an
//! unset one is `missing_credential` at call time, naming it); what can be checked is that the
//! declarations agree:
//!
//! - **Each scheme against the spec's `securitySchemes`.** A manifest scheme sending an API key
//!   in a header, the query or a cookie under a name the spec's API-key schemes there do not use
//!   is an error naming the spec's name (`auth.header = "api_key"`); a named scheme
//!   (`[auth.schemes.<name>]`) must name a spec scheme and send what it is.
//! - **Every operation's `security` against what the manifest attaches.** An alternative is met
//!   when one manifest scheme attaches each scheme it requires together ([`crate::security`]:
//!   its key — a bearer or OAuth2 token also carries OAuth2 and OpenID Connect tokens — its
//!   credential headers, or a bound header, `[upstream.bound_headers]`, for an API key in that
//!   header). An alternative failing only for API-key headers nothing attaches is a missing
//!   handle: an error naming the `[auth] headers` entry to declare and the `wrangler secret put`
//!   that sets it. Operations whose every alternative needs what the
//!   Worker cannot run (an OAuth2 flow through a browser, mutual TLS) are a warning: they take
//!   the manifest's credential or a per-call token, as the Petstore's do today.
//! - **The manifest against `wrangler.toml`.** Its `[env.<provider>]` must exist, with `main`
//!   the generated entry and the build command that generates it; a `secrets_store_secrets`
//!   entry there must bind one of the provider's credential handles (a scheme's secret, a basic
//!   pair's user name, a client id, a credential header's): a binding under any other name would
//!   leave the handle unset.

use crate::manifest::Manifest;
use crate::schemes::Scheme;
use crate::security::{attaches, key_attaches, kinds, Kind};
use crate::spec::Spec;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Parameter names that are credentials wherever they travel (compared lowercase).
const CREDENTIAL_NAMES: &[&str] = &["token", "api_key", "apikey", "api-key", "access_token", "auth_token", "private_token", "key", "secret", "client_secret", "password", "signature"];

/// Query, header and cookie parameters whose names look like credentials and which no scheme
/// fills (`[auth] params`, a scheme's key parameter, cookie or header): `(name, places, count)`.
fn unmarked_credentials(spec: &Spec, schemes: &[crate::schemes::Attach<'_>]) -> Vec<(String, String, usize)> {
    let marked = |name: &str| {
        schemes.iter().any(|a| {
            a.params.contains_key(name) || a.key_query() == Some(name) || a.key_cookie() == Some(name) || a.key_header().eq_ignore_ascii_case(name) || a.headers.keys().any(|h| h.eq_ignore_ascii_case(name))
        })
    };
    let mut found: BTreeMap<String, (Vec<String>, usize)> = BTreeMap::new();
    for (_, item) in spec.doc.get("paths").and_then(Value::as_object).into_iter().flatten() {
        let Ok(item) = spec.resolve(item) else { continue };
        for method in crate::model::METHODS {
            let Some(op) = item.get(method) else { continue };
            let mut seen: Vec<String> = Vec::new();
            for p in [item.get("parameters"), op.get("parameters")].into_iter().flatten().flat_map(|v| v.as_array().into_iter().flatten()) {
                let Ok(p) = spec.resolve(p) else { continue };
                let (Some(name), Some(place)) = (p.get("name").and_then(Value::as_str), p.get("in").and_then(Value::as_str)) else { continue };
                if place == "path" || !CREDENTIAL_NAMES.contains(&name.to_ascii_lowercase().as_str()) || marked(name) || seen.iter().any(|s| s == name) {
                    continue;
                }
                seen.push(name.to_owned());
                let entry = found.entry(name.to_owned()).or_default();
                if !entry.0.iter().any(|p| p == place) {
                    entry.0.push(place.to_owned());
                }
                entry.1 += 1;
            }
        }
    }
    found.into_iter().map(|(name, (places, count))| (name, places.join(", "), count)).collect()
}

/// What the check found.
#[derive(Debug, Default, PartialEq)]
pub struct Report {
    /// Declarations that disagree: the build fails on these.
    pub errors: Vec<String>,
    /// What the Worker cannot do as the spec says, but works around.
    pub warnings: Vec<String>,
    /// The handles the deployment must set, each with the command that sets it.
    pub handles: Vec<String>,
}

/// What a spec's scheme is, for a message.
fn describe(kind: &Kind) -> String {
    match kind {
        Kind::Key { place, name } => format!("an API key in {place} `{name}`"),
        Kind::Bearer => "a bearer token".to_owned(),
        Kind::Basic => "HTTP basic".to_owned(),
        Kind::Token { .. } => "an OAuth2 / OpenID Connect token, sent as bearer".to_owned(),
        Kind::Unsupported(what) => format!("{what}, which the Worker cannot send"),
    }
}

/// Checks `manifest` against `spec` and the repository's `wrangler.toml`.
pub fn check(root: &Path, manifest: &Manifest, spec: &Spec) -> Report {
    let mut report = Report::default();
    let kinds = kinds(spec);
    let cap = &manifest.capability;

    let schemes = manifest.schemes();
    for a in &schemes {
        let t = a.table();
        // A named scheme attaches the spec's scheme of its name.
        if let Some(name) = a.spec_name {
            match kinds.get(name) {
                None => report.errors.push(format!(
                    "[{t}] names no scheme of the spec (its securitySchemes: {}): rename it in openapi/{cap}/capa.toml",
                    kinds.keys().cloned().collect::<Vec<_>>().join(", ")
                )),
                Some(kind) if !key_attaches(a, kind) => report.errors.push(format!(
                    "[{t}] does not send what the spec's `{name}` is ({}): set its scheme to match in openapi/{cap}/capa.toml",
                    describe(kind)
                )),
                Some(_) => {}
            }
        }
        // Its key place against the spec's API-key schemes in the same place.
        let own = match a.scheme {
            Scheme::Header => Some(("header", a.header.unwrap_or_default(), "header")),
            Scheme::Query => Some(("query", a.name.unwrap_or_default(), "name")),
            Scheme::Cookie => Some(("cookie", a.name.unwrap_or_default(), "name")),
            _ => None,
        };
        if let Some((place, name, key)) = own {
            let there: Vec<(&String, &String)> =
                kinds.iter().filter_map(|(scheme, k)| match k { Kind::Key { place: p, name: n } if p == place => Some((scheme, n)), _ => None }).collect();
            let agrees = there.iter().any(|(_, n)| if place == "header" { n.eq_ignore_ascii_case(name) } else { *n == name });
            if !there.is_empty() && !agrees {
                let (scheme, spec_name) = there[0];
                report.errors.push(format!(
                    "the spec's API key `{scheme}` travels in {place} `{spec_name}`, but the manifest sends `{name}`: set {t}.{key} = {spec_name:?} in openapi/{cap}/capa.toml"
                ));
            }
        }
    }

    // Every operation's security alternatives against what the manifest attaches.
    let mut unmet_browser: BTreeMap<String, usize> = BTreeMap::new();
    let mut unmet_other: BTreeMap<String, usize> = BTreeMap::new();
    let mut missing: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (_, item) in spec.doc.get("paths").and_then(Value::as_object).into_iter().flatten() {
        let item = spec.resolve(item).unwrap_or(item);
        for method in crate::model::METHODS {
            let Some(op) = item.get(method) else { continue };
            let id = op.get("operationId").and_then(Value::as_str).unwrap_or(method).to_owned();
            let Some(alternatives) = crate::model::security(spec, manifest, op).and_then(Value::as_array) else { continue };
            if alternatives.is_empty() || alternatives.iter().any(|a| a.as_object().is_some_and(|o| o.is_empty())) {
                continue;
            }
            let mut met = false;
            let mut lacking: Vec<String> = Vec::new();
            let mut browser: Vec<String> = Vec::new();
            let mut other: Vec<String> = Vec::new();
            for alternative in alternatives.iter().filter_map(Value::as_object) {
                // The scheme attaching most of it: all of it, or what is left to declare.
                let unmet: Vec<&String> = schemes
                    .iter()
                    .map(|a| alternative.keys().filter(|s| !kinds.get(*s).is_some_and(|k| attaches(manifest, a, k))).collect::<Vec<_>>())
                    .min_by_key(Vec::len)
                    .unwrap_or_default();
                if unmet.is_empty() {
                    met = true;
                    break;
                }
                // Met but for API-key headers nothing attaches: handles to declare.
                let others_met = alternative.len() > unmet.len();
                if others_met && unmet.iter().all(|s| matches!(kinds.get(*s), Some(Kind::Key { place, .. }) if place == "header")) {
                    for s in &unmet {
                        if let Some(Kind::Key { name, .. }) = kinds.get(*s) {
                            lacking.push(name.clone());
                        }
                    }
                }
                for s in unmet {
                    if matches!(kinds.get(s), Some(Kind::Token { browser: true } | Kind::Unsupported(_))) {
                        browser.push(s.clone());
                    } else {
                        other.push(s.clone());
                    }
                }
            }
            if met {
                continue;
            }
            if !lacking.is_empty() {
                for header in lacking {
                    missing.entry(header).or_default().push(id.clone());
                }
            } else if !browser.is_empty() {
                browser.sort();
                browser.dedup();
                *unmet_browser.entry(browser.join(", ")).or_default() += 1;
            } else {
                other.sort();
                other.dedup();
                *unmet_other.entry(other.join(", ")).or_default() += 1;
            }
        }
    }
    for (header, ops) in missing {
        let binding = format!("{}_{}", cap.to_ascii_uppercase().replace('-', "_"), header.to_ascii_uppercase().replace('-', "_"));
        report.errors.push(format!(
            "{} operation(s) (first: {}) require the header `{header}` with the credential, and nothing attaches it: declare the handle, \
             [auth] headers = {{ \"{header}\" = \"{binding}\" }} in openapi/{cap}/capa.toml, then `wrangler secret put {binding} --env {cap}`",
            ops.len(),
            ops[0]
        ));
    }
    for (schemes, count) in unmet_other {
        let what = if schemes.is_empty() { "schemes the spec does not define".to_owned() } else { format!("`{schemes}`") };
        report.errors.push(format!(
            "{count} operation(s) accept only {what}, which the manifest's auth.scheme does not send: choose the scheme the spec declares in openapi/{cap}/capa.toml"
        ));
    }
    for (schemes, count) in unmet_browser {
        let what = format!("`{schemes}`");
        report.warnings.push(format!(
            "{count} operation(s) accept only {what}, which the Worker cannot run (a flow through a browser, or mutual TLS): they send the manifest's credential, or a per-call token (options.auth.apiKey)"
        ));
    }

    // Parameters that look like credentials and are nobody's: a caller would hold them.
    for (name, places, count) in unmarked_credentials(spec, &schemes) {
        report.warnings.push(format!(
            "`{name}` ({places}) is a parameter of {count} operation(s) and looks like a credential: if it is one, name it in [auth] params \
             (`params = {{ {name} = \"{}_{}\" }}`), so the capability fills it from that handle wherever an operation declares it and callers never hold it",
            cap.to_ascii_uppercase().replace('-', "_"),
            name.to_ascii_uppercase().replace('-', "_")
        ));
    }

    // The handles, and how each is set.
    for a in &schemes {
        let put = |h: &str| format!("wrangler secret put {h} --env {cap}");
        match a.spec_name {
            None => report.handles.push(format!("{}: {}", a.secret, put(a.secret))),
            Some(n) => report.handles.push(format!("{}: {} (the spec's `{n}`)", a.secret, put(a.secret))),
        }
        if let Some(user) = a.username {
            report.handles.push(format!("{user}: {} (or a var in [env.{cap}.vars])", put(user)));
        }
        for (field, handle) in a.login.iter().flat_map(|l| &l.fields).filter(|(_, h)| *h != a.secret) {
            report.handles.push(format!("{handle}: {} (the login's `{field}`)", put(handle)));
        }
        if let Some(id) = a.client_id {
            report.handles.push(format!("{id}: {} (the OAuth2 client id; or a var in [env.{cap}.vars])", put(id)));
        }
        for (header, handle) in a.headers {
            report.handles.push(format!("{handle}: {} (sent as `{header}` with {})", put(handle), a.secret));
        }
        // A credential parameter's handle, once (several parameters, or schemes, may share one).
        for (param, handle) in a.params {
            let line = format!("{handle}: {} (the credential parameter `{param}`)", put(handle));
            if handle != a.secret && !report.handles.iter().any(|h| h.starts_with(&format!("{handle}: "))) {
                report.handles.push(line);
            }
        }
    }
    for binding in manifest.upstream.bound_headers.values() {
        report.handles.push(format!("{binding}: wrangler secret put {binding} --env {cap} (or a var in [env.{cap}.vars])"));
    }

    // wrangler.toml's environment for the provider.
    let block = format!(
        "[env.{cap}]\nname = \"capa-{cap}\"\nmain = \"generated/{cap}/entry.js\"\nbuild = {{ command = \"bash scripts/build.sh {cap}\" }}"
    );
    match std::fs::read_to_string(root.join("wrangler.toml")).ok().and_then(|t| t.parse::<toml::Table>().ok()) {
        None => report.errors.push("wrangler.toml is missing or does not parse".to_owned()),
        Some(config) => match config.get("env").and_then(|e| e.get(cap.as_str())) {
            None => report.errors.push(format!("wrangler.toml has no [env.{cap}]: add\n{block}")),
            Some(env) => {
                let main = env.get("main").and_then(toml::Value::as_str).unwrap_or("");
                let command = env.get("build").and_then(|b| b.get("command")).and_then(toml::Value::as_str).unwrap_or("");
                if main != format!("generated/{cap}/entry.js") || !command.split_whitespace().eq(["bash", "scripts/build.sh", cap.as_str()]) {
                    report.errors.push(format!("wrangler.toml's [env.{cap}] does not build this provider: it should read\n{block}"));
                }
                token_object(&mut report, cap, env, schemes.iter().any(|a| matches!(a.scheme, Scheme::Oauth2 | Scheme::Jwt | Scheme::Session)));
                let handles: Vec<&str> = schemes.iter().flat_map(|a| a.handles()).collect();
                for entry in env.get("secrets_store_secrets").and_then(toml::Value::as_array).into_iter().flatten() {
                    let binding = entry.get("binding").and_then(toml::Value::as_str).unwrap_or("");
                    if handles.contains(&binding) {
                        report.handles.push(format!("{binding}: the Secrets Store secret wrangler.toml binds (read through its binding, cached per CAPA_SECRETS_STORE_TTL)"));
                    } else {
                        report.errors.push(format!(
                            "wrangler.toml's [env.{cap}] binds a Secrets Store secret as `{binding}`, which is none of this provider's credential handles ({}): set binding to one of them",
                            handles.join(", ")
                        ));
                    }
                }
            }
        },
    }
    report
}

/// The most entries a rights list holds, as the runtime reads it (`src/rights.rs`,
/// `MAX_ENTRIES`; `generator/tests/classes.rs` holds the two equal). Entries hold at most
/// [`crate::classes::MAX_CALL_LEN`] bytes, the runtime's `MAX_ENTRY_LEN`.
pub const MAX_ENTRIES: usize = 256;

/// The deployment's rights vars (`CAPA_ONLY`, `CAPA_EXCEPT`, `CAPA_READ_ONLY` in
/// `[env.<provider>.vars]`, src/rights.rs) against the provider's calls and classes: an entry
/// naming neither, or a list past the runtime's bounds, would make the Worker refuse every call
/// once deployed (it fails closed), so it fails here first, naming the var and the entry.
pub fn rights_vars(root: &Path, cap: &str, names: &[crate::names::Name], classes: &[String]) -> Vec<String> {
    let calls: Vec<String> = names.iter().map(crate::names::Name::call).collect();
    let Some(config) = std::fs::read_to_string(root.join("wrangler.toml")).ok().and_then(|t| t.parse::<toml::Table>().ok()) else { return Vec::new() };
    // The call budget's binding and the props of the bindings that call the capability.
    let mut errors = crate::callers::check(&config, cap, &|p| classes.iter().any(|c| c == p) || calls.iter().any(|c| crate::classes::matches(p, c)));
    let Some(vars) = config.get("env").and_then(|e| e.get(cap)).and_then(|e| e.get("vars")) else { return errors };
    for var in ["CAPA_ONLY", "CAPA_EXCEPT"] {
        let Some(value) = vars.get(var) else { continue };
        let Some(value) = value.as_str() else {
            errors.push(format!("wrangler.toml's [env.{cap}.vars] {var} is `{value}`: give it as one string of comma-separated patterns (the Worker would refuse every call)"));
            continue;
        };
        // Bounded and trimmed as the runtime does (ASCII spaces alone, src/rights.rs).
        if value.split(',').count() > MAX_ENTRIES {
            errors.push(format!("wrangler.toml's [env.{cap}.vars] {var} holds more than {MAX_ENTRIES} entries, the most a rights list holds: the Worker would refuse every call"));
            continue;
        }
        for entry in value.split(',').map(|e| e.trim_matches(' ')).filter(|e| !e.is_empty()) {
            if entry.len() > crate::classes::MAX_CALL_LEN {
                errors.push(format!(
                    "wrangler.toml's [env.{cap}.vars] {var} holds an entry of {} bytes; a rights entry holds at most {}: the Worker would refuse every call",
                    entry.len(),
                    crate::classes::MAX_CALL_LEN
                ));
                continue;
            }
            if !classes.iter().any(|c| c == entry) && !calls.iter().any(|c| crate::classes::matches(entry, c)) {
                errors.push(format!(
                    "wrangler.toml's [env.{cap}.vars] {var} names `{entry}`, which is no class ({}) and no operation of {cap}: the Worker would refuse every call",
                    classes.join(", ")
                ));
            }
        }
    }
    if let Some(value) = vars.get("CAPA_READ_ONLY") {
        let ok = matches!(value.as_str().map(|v| v.trim_matches(' ')), Some("" | "true" | "false" | "1" | "0")) || value.as_bool().is_some();
        if !ok {
            errors.push(format!("wrangler.toml's [env.{cap}.vars] CAPA_READ_ONLY is `{value}`: give \"true\" or \"false\" (the Worker would refuse every call)"));
        }
    }
    errors
}

/// The token object's binding (src/token/shared.rs), if the env declares one: named
/// `CAPA_TOKENS`, of class `CapaTokens`, in a provider with a token scheme, migrated where it is
/// defined (no `script_name`); its sealing key joins the handles.
fn token_object(report: &mut Report, cap: &str, env: &toml::Value, tokens: bool) {
    let bindings = env.get("durable_objects").and_then(|d| d.get("bindings")).and_then(toml::Value::as_array).into_iter().flatten();
    for binding in bindings {
        let (name, class) = (binding.get("name").and_then(toml::Value::as_str).unwrap_or(""), binding.get("class_name").and_then(toml::Value::as_str).unwrap_or(""));
        if name != "CAPA_TOKENS" && class != "CapaTokens" {
            continue;
        }
        if name != "CAPA_TOKENS" || class != "CapaTokens" {
            report.errors.push(format!("wrangler.toml's [env.{cap}] binds `{name}` to class `{class}`: the token object is bound as name = \"CAPA_TOKENS\", class_name = \"CapaTokens\""));
            continue;
        }
        if !tokens {
            report.errors.push(format!("wrangler.toml's [env.{cap}] binds CAPA_TOKENS, but {cap} has no scheme whose tokens expire (oauth2, jwt, session): nothing to share; remove the binding"));
            continue;
        }
        let migrated = env.get("migrations").and_then(toml::Value::as_array).into_iter().flatten().any(|m| {
            m.get("new_sqlite_classes").and_then(toml::Value::as_array).is_some_and(|c| c.iter().any(|c| c.as_str() == Some("CapaTokens")))
        });
        if binding.get("script_name").is_none() && !migrated {
            report.errors.push(format!(
                "wrangler.toml's [env.{cap}] binds CAPA_TOKENS but creates no CapaTokens class: add\n[[env.{cap}.migrations]]\ntag = \"capa-tokens-v1\"\nnew_sqlite_classes = [\"CapaTokens\"]"
            ));
        }
        report.handles.push(format!("CAPA_TOKENS_KEY: wrangler secret put CAPA_TOKENS_KEY --env {cap} (the token object's sealing key, 32 characters or more: `openssl rand -base64 32`)"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(schemes: Value, security: Value) -> Spec {
        Spec::from_value(json!({
            "openapi": "3.0.3",
            "paths": { "/things": { "get": { "operationId": "ListThings", "security": security, "responses": { "200": { "description": "ok" } } } } },
            "components": { "securitySchemes": schemes },
        }))
        .unwrap()
    }

    fn manifest(scheme: Scheme, header: Option<&str>) -> Manifest {
        let mut m = Manifest::stand_in(Path::new("spec.json"));
        m.capability = "things".into();
        m.secret = "THINGS_KEY".into();
        m.auth.scheme = scheme;
        m.auth.header = header.map(str::to_owned);
        m.auth.unspecified = None;
        m
    }

    fn root_with_env(cap: &str) -> std::path::PathBuf {
        // One directory per call: the tests run in parallel.
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("capa-check-{}-{n}-{cap}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("wrangler.toml"), format!("[env.{cap}]\nmain = \"generated/{cap}/entry.js\"\nbuild = {{ command = \"bash scripts/build.sh {cap}\" }}\n")).unwrap();
        dir
    }

    #[test]
    fn rights_vars_naming_nothing_fail_before_deploy() {
        let dir = root_with_env("things");
        let name = |resource: &[&str], method: &str| crate::names::Name { resource: resource.iter().map(|r| r.to_string()).collect(), method: method.into() };
        let calls = [name(&["things"], "list"), name(&["things", "items"], "create")];
        let classes = ["read".to_owned(), "write".to_owned(), "destructive".to_owned()];
        let with = |vars: &str| {
            std::fs::write(dir.join("wrangler.toml"), format!("[env.things]\nmain = \"x\"\n[env.things.vars]\n{vars}\n")).unwrap();
            rights_vars(&dir, "things", &calls, &classes)
        };
        assert_eq!(with("CAPA_ONLY = \"things.*, read\"\nCAPA_EXCEPT = \"things.items.create\"\nCAPA_READ_ONLY = \"true\""), Vec::<String>::new());
        assert_eq!(with("CAPA_READ_ONLY = false"), Vec::<String>::new());
        let shaped = with("CAPA_EXCEPT = [\"money\"]");
        assert!(shaped.len() == 1 && shaped[0].contains("give it as one string"), "{shaped:?}");
        // Only ASCII spaces are trimmed: a no-break space or a tab is part of the entry.
        let padded = with("CAPA_EXCEPT = \"money\\u00a0, read\"\nCAPA_ONLY = \"\\tread\"");
        assert!(padded.len() == 2 && padded.iter().all(|e| e.contains("which is no class")), "{padded:?}");
        // Bounded as the runtime bounds them.
        let many = with(&format!("CAPA_EXCEPT = \"{}\"", vec!["read"; MAX_ENTRIES + 1].join(",")));
        assert!(many.len() == 1 && many[0].contains("more than 256 entries"), "{many:?}");
        assert_eq!(with(&format!("CAPA_EXCEPT = \"{}\"", vec!["read"; MAX_ENTRIES].join(","))), Vec::<String>::new());
        let long = with(&format!("CAPA_ONLY = \"{}\"", "x".repeat(300)));
        assert!(long.len() == 1 && long[0].contains("300 bytes"), "{long:?}");
        let errors = with("CAPA_ONLY = \"thing.*\"\nCAPA_EXCEPT = \"read, mony\"\nCAPA_READ_ONLY = \"yes\"");
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].contains("CAPA_ONLY names `thing.*`, which is no class (read, write, destructive)"), "{errors:?}");
        assert!(errors[1].contains("CAPA_EXCEPT names `mony`"), "{errors:?}");
        assert!(errors[2].contains("CAPA_READ_ONLY"), "{errors:?}");
        // No vars, nothing to check.
        assert_eq!(rights_vars(&root_with_env("things"), "things", &calls, &classes), Vec::<String>::new());
    }

    #[test]
    fn a_header_name_that_disagrees_with_the_spec_fails_naming_the_fix() {
        let spec = spec(json!({ "key": { "type": "apiKey", "in": "header", "name": "api_key" } }), json!([{ "key": [] }]));
        let report = check(&root_with_env("things"), &manifest(Scheme::Header, Some("X-Api-Key")), &spec);
        assert_eq!(report.errors.len(), 2, "{report:?}");
        assert!(report.errors[0].contains("travels in header `api_key`, but the manifest sends `X-Api-Key`: set auth.header = \"api_key\""), "{report:?}");
        let ok = check(&root_with_env("things"), &manifest(Scheme::Header, Some("API_KEY")), &spec);
        assert_eq!(ok.errors, Vec::<String>::new(), "header names compare case-insensitively");
    }

    #[test]
    fn a_credential_required_together_with_the_key_is_a_missing_handle() {
        let spec = spec(
            json!({ "key": { "type": "http", "scheme": "bearer" }, "app": { "type": "apiKey", "in": "header", "name": "X-App-Id" } }),
            json!([{ "key": [], "app": [] }]),
        );
        let mut m = manifest(Scheme::Bearer, None);
        let report = check(&root_with_env("things"), &m, &spec);
        assert_eq!(report.errors.len(), 1, "{report:?}");
        assert!(report.errors[0].contains("require the header `X-App-Id`"), "{}", report.errors[0]);
        assert!(report.errors[0].contains("[auth] headers = { \"X-App-Id\" = \"THINGS_X_APP_ID\" }"), "{}", report.errors[0]);
        assert!(report.errors[0].contains("wrangler secret put THINGS_X_APP_ID --env things"), "{}", report.errors[0]);
        m.upstream.bound_headers.insert("X-App-Id".into(), "THINGS_APP_ID".into());
        let report = check(&root_with_env("things"), &m, &spec);
        assert_eq!(report.errors, Vec::<String>::new());
        assert!(report.handles.iter().any(|h| h.starts_with("THINGS_APP_ID: wrangler secret put THINGS_APP_ID --env things")), "{:?}", report.handles);
    }

    #[test]
    fn a_named_scheme_names_a_spec_scheme_and_sends_what_it_is() {
        let spec = spec(json!({ "key": { "type": "apiKey", "in": "header", "name": "X-Key" }, "token": { "type": "http", "scheme": "bearer" } }), json!([{ "token": [] }]));
        let named = |name: &str, scheme: Scheme| {
            let mut m = manifest(Scheme::Header, Some("X-Key"));
            m.auth.schemes.insert(
                name.into(),
                crate::schemes::Named { secret: "THINGS_TOKEN".into(), scheme, header: None, name: None, username: None, headers: BTreeMap::new(), params: BTreeMap::new(), client_id: None, token_url: None, scopes: Vec::new(), refresh_margin: None, jwt: Default::default(), login: None },
            );
            check(&root_with_env("things"), &m, &spec)
        };
        let ok = named("token", Scheme::Bearer);
        assert_eq!(ok.errors, Vec::<String>::new());
        assert!(ok.handles.iter().any(|h| h.starts_with("THINGS_TOKEN: wrangler secret put THINGS_TOKEN --env things (the spec's `token`)")), "{:?}", ok.handles);
        let typo = named("tokn", Scheme::Bearer);
        assert!(typo.errors.iter().any(|e| e.contains("[auth.schemes.tokn] names no scheme of the spec (its securitySchemes: key, token)")), "{typo:?}");
        let wrong = named("token", Scheme::Basic);
        assert!(wrong.errors.iter().any(|e| e.contains("[auth.schemes.token] does not send what the spec's `token` is (a bearer token)")), "{wrong:?}");
    }

    #[test]
    fn browser_flows_are_warned_and_tokens_ride_as_bearer() {
        let oauth = json!({ "oauth": { "type": "oauth2", "flows": { "implicit": { "authorizationUrl": "https://x", "scopes": {} } } } });
        let report = check(&root_with_env("things"), &manifest(Scheme::Header, Some("api_key")), &spec(oauth.clone(), json!([{ "oauth": [] }])));
        assert!(report.errors.is_empty() && report.warnings.len() == 1, "{report:?}");
        assert!(report.warnings[0].starts_with("1 operation(s) accept only `oauth`"), "{}", report.warnings[0]);
        let bearer = check(&root_with_env("things"), &manifest(Scheme::Bearer, None), &spec(oauth, json!([{ "oauth": [] }])));
        assert!(bearer.errors.is_empty() && bearer.warnings.is_empty(), "{bearer:?}");
    }

    #[test]
    fn a_secrets_store_binding_must_be_a_handle() {
        let root = root_with_env("things");
        let toml = std::fs::read_to_string(root.join("wrangler.toml")).unwrap();
        let store = |binding: &str| format!("{toml}[[env.things.secrets_store_secrets]]\nbinding = \"{binding}\"\nstore_id = \"s\"\nsecret_name = \"n\"\n");
        std::fs::write(root.join("wrangler.toml"), store("THINGS_KEY")).unwrap();
        let ok = check(&root, &manifest(Scheme::Bearer, None), &spec(json!({}), json!([])));
        assert!(ok.errors.is_empty() && ok.handles.iter().any(|h| h.contains("the Secrets Store secret")), "{ok:?}");
        std::fs::write(root.join("wrangler.toml"), store("THINGS_KYE")).unwrap();
        let typo = check(&root, &manifest(Scheme::Bearer, None), &spec(json!({}), json!([])));
        assert_eq!(typo.errors.len(), 1, "{typo:?}");
        assert!(typo.errors[0].contains("`THINGS_KYE`, which is none of this provider's credential handles (THINGS_KEY)"), "{}", typo.errors[0]);
    }

    #[test]
    fn the_token_object_is_bound_by_its_names_migrated_and_only_where_tokens_expire() {
        let root = root_with_env("things");
        let toml = std::fs::read_to_string(root.join("wrangler.toml")).unwrap();
        let with = |extra: &str| {
            std::fs::write(root.join("wrangler.toml"), format!("{toml}{extra}")).unwrap();
        };
        let binding = "[[env.things.durable_objects.bindings]]\nname = \"CAPA_TOKENS\"\nclass_name = \"CapaTokens\"\n";
        let migration = "[[env.things.migrations]]\ntag = \"capa-tokens-v1\"\nnew_sqlite_classes = [\"CapaTokens\"]\n";
        let mut oauth = manifest(Scheme::Oauth2, None);
        oauth.auth.client_id = Some("THINGS_CLIENT_ID".into());
        oauth.auth.token_url = Some("https://auth.example.com/token".into());
        let empty = spec(json!({}), json!([]));
        with(&format!("{binding}{migration}"));
        let ok = check(&root, &oauth, &empty);
        assert_eq!(ok.errors, Vec::<String>::new());
        assert!(ok.handles.iter().any(|h| h.starts_with("CAPA_TOKENS_KEY: wrangler secret put CAPA_TOKENS_KEY --env things")), "{:?}", ok.handles);
        with(binding);
        let unmigrated = check(&root, &oauth, &empty);
        assert!(unmigrated.errors.iter().any(|e| e.contains("creates no CapaTokens class: add\n[[env.things.migrations]]")), "{unmigrated:?}");
        with(&format!("{}script_name = \"capa-things\"\n", binding));
        assert_eq!(check(&root, &oauth, &empty).errors, Vec::<String>::new(), "bound from another Worker: migrated there");
        with(&format!("{binding}{migration}"));
        let static_key = check(&root, &manifest(Scheme::Bearer, None), &empty);
        assert!(static_key.errors.iter().any(|e| e.contains("has no scheme whose tokens expire")), "{static_key:?}");
        with("[[env.things.durable_objects.bindings]]\nname = \"TOKENS\"\nclass_name = \"CapaTokens\"\n");
        assert!(check(&root, &oauth, &empty).errors.iter().any(|e| e.contains("binds `TOKENS` to class `CapaTokens`")));
    }

    #[test]
    fn a_provider_without_its_wrangler_env_fails_with_the_block_to_add() {
        let spec = spec(json!({}), json!([]));
        let report = check(&root_with_env("other"), &manifest(Scheme::Bearer, None), &spec);
        assert_eq!(report.errors.len(), 1);
        assert!(report.errors[0].starts_with("wrangler.toml has no [env.things]: add\n[env.things]\n"), "{}", report.errors[0]);
    }

    #[test]
    fn parameters_that_look_like_credentials_are_flagged_unless_a_scheme_fills_them() {
        let s = Spec::from_value(serde_json::json!({
            "openapi": "3.0.3",
            "paths": {
                "/a": { "get": { "parameters": [{ "name": "token", "in": "query" }, { "name": "q", "in": "query" }], "responses": {} } },
                "/b": { "post": { "parameters": [{ "name": "token", "in": "header" }, { "name": "Password", "in": "cookie" }], "responses": {} } },
            },
        }))
        .unwrap();
        let mut m = manifest(Scheme::Bearer, None);
        let found = unmarked_credentials(&s, &m.schemes());
        assert_eq!(found, vec![("Password".to_owned(), "cookie".to_owned(), 1), ("token".to_owned(), "query, header".to_owned(), 2)]);
        m.auth.params.insert("token".into(), "THINGS_TOKEN".into());
        assert_eq!(unmarked_credentials(&s, &m.schemes()).len(), 1);
    }

    #[test]
    fn every_shipped_provider_passes() {
        let root = crate::repo_root();
        for provider in crate::providers(&root).unwrap() {
            let manifest = Manifest::load(&crate::manifest_path(&root, &provider)).unwrap();
            let spec = Spec::load(&manifest.spec_path()).unwrap();
            let report = check(&root, &manifest, &spec);
            assert_eq!(report.errors, Vec::<String>::new(), "{provider}");
            // GitHub: its Actions cache `key` and the OAuth `token` it checks are parameters whose
            // names look like credentials and are not (the check says "if it is one"); the
            // Petstore's login takes a `password` in the query (and has browser-only operations);
            // Stripe's `client_secret` is a PaymentIntent's, a caller's to pass.
            let expected = match provider.as_str() {
                "petstore" => 2,
                "stripe" => 1,
                "github" => 2,
                _ => 0,
            };
            assert_eq!(report.warnings.len(), expected, "{provider}: {:?}", report.warnings);
        }
    }
}
