//! The method table as JSON (`capa-gen table <provider>`), for tests that call every operation
//! of a provider: the security suite's randomized calls pick operations and build their
//! arguments from it. Printed on demand, not written to `generated/`: the Worker is built from
//! `operations.rs`, which holds the same facts.

use crate::manifest::Manifest;
use crate::model::{At, AuthUse, Body, CredentialAt, Model, Style};
use crate::names::Name;
use serde_json::{json, Value};

/// `{ capability, secret, schemes, credentialParams, softError, callHeaders, secretCallHeaders,
/// operations: [...] }`.
pub fn emit(manifest: &Manifest, model: &Model, names: &[Name], classes: &crate::classes::Classes) -> Value {
    let operations: Vec<Value> = model
        .operations
        .iter()
        .zip(names)
        .zip(&classes.of)
        .map(|((op, name), bits)| {
            let params: Vec<Value> = op
                .params
                .iter()
                .map(|p| {
                    let (at, style) = match p.at {
                        At::Query(style) | At::QueryAlias(style) => (
                            "query",
                            Some(match style {
                                Style::Form => "form",
                                Style::FormCsv => "formCsv",
                                Style::DeepObject => "deepObject",
                                Style::SpaceDelimited => "spaceDelimited",
                                Style::PipeDelimited => "pipeDelimited",
                            }),
                        ),
                        At::Header | At::HeaderAlias => ("header", None),
                        At::Body => ("body", None),
                    };
                    // `name` is the params key; `wire` the name on the wire, for an alias.
                    let wire = matches!(p.at, At::QueryAlias(_) | At::HeaderAlias).then(|| p.name.split_once('.').map_or(p.name.as_str(), |(_, n)| n));
                    json!({ "name": p.name, "wire": wire, "at": at, "style": style, "required": p.required })
                })
                .collect();
            let (body, open) = match &op.body {
                Body::None => ("none", false),
                Body::Form { open, .. } => ("form", *open),
                Body::Json { open } => ("json", *open),
                Body::JsonValue => ("jsonValue", false),
                Body::Text(_) => ("text", false),
                Body::Multipart { open, .. } => ("multipart", *open),
                Body::Binary(_) => ("binary", false),
            };
            json!({
                "call": name.call(),
                "id": op.id,
                "method": op.method,
                "path": op.path,
                "server": model.servers[op.server],
                "pathParams": op.path_params,
                "params": params,
                "body": body,
                "open": open,
                "auth": match op.auth { AuthUse::Required => "required", AuthUse::Optional => "optional", AuthUse::Never => "never" },
                "scheme": op.scheme,
                // Credentials the spec declares as parameters, filled from their handles.
                "credentials": op.credentials.iter().map(|c| json!({
                    "name": c.name,
                    "at": match c.at { CredentialAt::Query => "query", CredentialAt::Header => "header", CredentialAt::Cookie => "cookie", CredentialAt::Body => "body" },
                    "handle": c.handle,
                    "required": c.required,
                })).collect::<Vec<_>>(),
                "classes": crate::classes::named(classes, *bits),
                "pages": op.paging.is_some(),
            })
        })
        .collect();
    json!({
        "capability": manifest.capability,
        "secret": manifest.secret,
        "authHeader": manifest.auth_header(),
        "authQuery": manifest.schemes()[0].key_query(),
        "authCookie": manifest.schemes()[0].key_cookie(),
        "authPair": manifest.auth.username.is_some(),
        "authHeaders": manifest.auth.headers,
        "schemes": manifest.schemes().iter().map(|a| json!({
            "specName": a.spec_name,
            "secret": a.secret,
            "authHeader": a.key_header(),
            "authQuery": a.key_query(),
            "authCookie": a.key_cookie(),
            "authPair": a.username.is_some(),
            "authHeaders": a.headers,
            "params": a.params,
        })).collect::<Vec<_>>(),
        // Every scheme's credential parameters, by name (what `options.auth.params` takes).
        "credentialParams": manifest.credential_params(),
        // `[upstream.soft_error]`: the member that says a 2xx failed, the value that means it
        // (null: present and not empty), the member holding the message.
        "softError": manifest.upstream.soft_error.as_ref().map(|s| json!({
            "member": s.member,
            "equals": s.equals.as_ref().map(|_| serde_json::from_str::<Value>(&s.equals_json()).unwrap_or(Value::Null)),
            "message": s.message,
        })),
        "callHeaders": manifest.call_headers(),
        "secretCallHeaders": manifest.secret_call_headers(),
        "staticHeaders": manifest.upstream.headers,
        "boundHeaders": manifest.upstream.bound_headers,
        "classes": classes.names,
        "operations": operations,
    })
}
