//! Where an operation's requests go: its server (the spec's `servers`, their variables filled
//! and relative URLs resolved as the manifest says) and each scheme's token endpoint (the
//! manifest's `token_url`, else the spec's client-credentials flow). Whether a credential may
//! travel to a server is the parent module's to decide ([`crate::fit::is_loopback`]).

use crate::fit::is_loopback;
use crate::manifest::Manifest;
use crate::schemes::Scheme;
use crate::spec::Spec;
use anyhow::{bail, Context, Result};
use serde_json::Value;

/// The absolute base URL for an operation: the first `servers` entry of the operation, its path
/// item or the document (none anywhere: `/`, as OpenAPI says); its variables filled from the
/// manifest's `upstream.server_variables`, else their defaults; relative URLs resolved against
/// the manifest's `upstream.origin`.
pub(super) fn server(manifest: &Manifest, scopes: [&Value; 3]) -> Result<String> {
    let entry = scopes.iter().find_map(|s| s.get("servers").and_then(Value::as_array).and_then(|a| a.first()));
    let mut url = match entry {
        Some(entry) => entry.get("url").and_then(Value::as_str).context("a server without url")?.to_owned(),
        None => "/".to_owned(),
    };
    if let Some(Value::Object(vars)) = entry.and_then(|e| e.get("variables")) {
        for (name, var) in vars {
            let default = var.get("default").and_then(|d| d.as_str().map(str::to_owned).or_else(|| Some(d.to_string())));
            let value = match (manifest.upstream.server_variables.get(name), default) {
                (Some(v), _) => v.clone(),
                (None, Some(d)) => d,
                (None, None) => bail!("server variable `{name}` of {url} has no default: set upstream.server_variables.{name} in the manifest"),
            };
            if let Some(Value::Array(allowed)) = var.get("enum") {
                if !allowed.iter().any(|a| a.as_str() == Some(&value)) {
                    bail!("server variable `{name}` = {value:?} is not one the spec allows ({})", allowed.iter().map(Value::to_string).collect::<Vec<_>>().join(", "));
                }
            }
            url = url.replace(&format!("{{{name}}}"), &value);
        }
    }
    if url.starts_with('/') {
        let origin = manifest
            .upstream
            .origin
            .as_deref()
            .with_context(|| format!("the spec's server {url:?} is relative (a spec naming none has `/`): set upstream.origin in the manifest"))?;
        url = format!("{}{url}", origin.trim_end_matches('/'));
    }
    if !(url.starts_with("https://") || url.starts_with("http://")) || url.contains('{') {
        bail!("server URL {url:?} is not an absolute http(s) URL");
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// Each scheme's token endpoint (`oauth2` schemes only): the manifest's `token_url`, else the
/// spec's `flows.clientCredentials.tokenUrl` of the scheme it names (for `[auth]`, the spec's one
/// client-credentials scheme).
pub(super) fn token_urls(spec: &Spec, manifest: &Manifest) -> Result<Vec<Option<String>>> {
    let schemes = spec.doc.pointer("/components/securitySchemes").and_then(Value::as_object);
    let url_of = |scheme: &Value| {
        let scheme = spec.resolve(scheme).unwrap_or(scheme);
        scheme.pointer("/flows/clientCredentials/tokenUrl").and_then(Value::as_str).map(str::to_owned)
    };
    manifest
        .schemes()
        .iter()
        .map(|a| {
            if let Some(url) = a.token_url {
                return Ok(Some(url.to_owned()));
            }
            // A service account without one sends its JWT itself.
            if a.scheme != Scheme::Oauth2 {
                return Ok(None);
            }
            let t = a.table();
            let found: Vec<String> = match a.spec_name {
                Some(name) => schemes.and_then(|s| s.get(name)).and_then(url_of).into_iter().collect(),
                None => schemes.into_iter().flat_map(|s| s.values()).filter_map(url_of).collect(),
            };
            match found.as_slice() {
                [url] if url.starts_with("https://") || is_loopback(url) => Ok(Some(url.clone())),
                [url] => bail!("the spec's token URL {url:?} is not an absolute https:// URL: set {t}.token_url"),
                [] => bail!("the spec declares no clientCredentials flow for [{t}]: set {t}.token_url"),
                _ => bail!("the spec declares several clientCredentials flows: set {t}.token_url, or name the scheme in [auth.schemes.<name>]"),
            }
        })
        .collect()
}
