//! Credentials a spec declares as parameters, wherever each operation puts them.
//!
//! Some specs declare their credential as a parameter of (nearly) every operation — a `token`
//! as a header on some, in the query on others, as a form or JSON body field on others — and
//! some make it of several parameters (a key and a token). The manifest's `[auth] params` names
//! each such parameter and the handle it comes from; the generator takes them out of the
//! operations' params (so they are in no `index.d.ts`, no `methods.txt`, and a caller naming one
//! is `unknown_parameter`) and lists where each operation declares them
//! ([`Provider::credential_params`]). Here each is filled from its handle's deployment value,
//! once, in that place.
//!
//! The values are credentials like the keys: read with them once per Worker instance
//! ([`crate::auth::WorkerSecrets`]), scrubbed from everything a caller sees. A call may bring
//! its own (`options.auth.params`, by parameter name: a tenant's token beside the deployment's
//! app key, Trello's way), each replacing the deployment's for that call and scanned for like a
//! per-call key. A call bringing its own key (`options.auth.apiKey`) brings every credential
//! parameter of the operation with it, or is refused: no tenant's key travels beside the
//! deployment's token. An unset handle without a per-call value is `missing_credential` where
//! the spec requires the parameter, and leaves it out where it does not.
//!
//! Providers without such parameters carry none of this (`capa_creds`, build.rs).

use crate::auth::WorkerSecrets;
use crate::error::CallError;
use crate::http::HeaderValue;
use crate::receipt::CredentialUse;
use crate::secret::Secret;
use crate::table::{CredentialAt, Operation, Provider};
use crate::value::Value;

/// Where the credential parameters go.
pub struct Places<'a> {
    /// The request's query credentials (a `query` scheme's key may be there already): they
    /// join the URL only as the request is handed to `fetch`
    /// ([`crate::http::HttpRequest::query_credentials`]), so no URL anything else could show
    /// holds them.
    pub query: &'a mut Vec<(&'static str, HeaderValue)>,
    pub headers: &'a mut Vec<(&'static str, HeaderValue)>,
    pub body: &'a mut Vec<(String, Value)>,
}

/// Fills `op`'s credential parameters; whether any went into the body (whose text then holds a
/// credential). `given`: the call's own values (`options.auth.params`), by parameter name.
#[cold]
#[inline(never)]
pub fn fill(provider: &Provider, op: &'static Operation, secrets: &WorkerSecrets, used: CredentialUse, given: &[(String, Secret)], out: Places<'_>) -> Result<bool, CallError> {
    refuse_unknown(provider, given)?;
    let Some(index) = provider.operations.iter().position(|o| std::ptr::eq(o, op)) else { return Ok(false) };
    let index = index as u16;
    let start = provider.credential_params.partition_point(|c| c.op < index);
    let mine = provider.credential_params[start..].iter().take_while(|c| c.op == index);
    let mut in_body = false;
    let mut cookies = String::new();
    for c in mine {
        let call = given.iter().find(|(n, _)| n == c.name).map(|(_, v)| v);
        let value = match call {
            Some(value) => value,
            // A tenant's key never travels beside the deployment's parameter.
            None if used == CredentialUse::Call => {
                return Err(CallError::invalid(format!(
                    "{}: its credential parameter `{}` comes from the deployment's {}, which does not travel with a per-call key (options.auth.apiKey): give it too, in options.auth.params",
                    op.call, c.name, c.handle
                )));
            }
            None => match secrets.param(c.handle) {
                Some(value) => value,
                None if c.required => return Err(CallError::MissingCredential { capability: provider.capability, secret: c.handle }),
                None => continue,
            },
        };
        let value = value.expose();
        match c.at {
            CredentialAt::Query => out.query.push((c.name, HeaderValue::Secret(Secret::new(value.to_owned())))),
            CredentialAt::Header => {
                if let Some(fault) = crate::header::value_fault(value) {
                    return Err(CallError::UnsendableBinding { capability: provider.capability, binding: c.handle, header: c.name, fault });
                }
                out.headers.push((c.name, HeaderValue::Secret(Secret::new(value.to_owned()))));
            }
            CredentialAt::Cookie => {
                if !cookies.is_empty() {
                    cookies.push_str("; ");
                }
                cookies.push_str(c.name);
                cookies.push('=');
                crate::encode::percent_encode_into(&mut cookies, value);
            }
            CredentialAt::Body => {
                out.body.push((c.name.to_owned(), Value::String(value.to_owned())));
                in_body = true;
            }
        }
    }
    if !cookies.is_empty() {
        join_cookies(out.headers, cookies);
    }
    Ok(in_body)
}

/// Refuses per-call values (`options.auth.params`) for what is no credential parameter of the
/// provider (a misspelt name would otherwise leave the deployment's value to travel unnoticed).
/// A name the provider has but this operation does not declare is left unused: a tenant's
/// values may go with every call.
fn refuse_unknown(provider: &Provider, given: &[(String, Secret)]) -> Result<(), CallError> {
    let Some((name, _)) = given.iter().find(|(n, _)| !provider.credential_params.iter().any(|c| c.name == n)) else { return Ok(()) };
    let mut known: Vec<&str> = Vec::new();
    for c in provider.credential_params {
        if !known.contains(&c.name) {
            known.push(c.name);
        }
    }
    Err(CallError::invalid(format!(
        "options.auth.params names `{}`, which is none of this provider's credential parameters ({})",
        crate::args::printable(name),
        known.join(", ")
    )))
}

/// Adds `cookies` (`a=1; b=2`) to the request's one `Cookie` header: after the scheme's own
/// cookie (a `cookie` scheme's key, a session's cookies) when it has one, since two `Cookie`
/// headers would reach the upstream joined by a comma, which no cookie parser reads as two.
fn join_cookies(headers: &mut Vec<(&'static str, HeaderValue)>, cookies: String) {
    match headers.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case("cookie")) {
        Some((_, scheme)) => {
            let joined = [scheme.expose(), "; ", &cookies].concat();
            *scheme = HeaderValue::Secret(Secret::new(joined));
        }
        None => headers.push(("cookie", HeaderValue::Secret(Secret::new(cookies)))),
    }
}

/// Refuses a params object naming one of `op`'s credential parameters (`unknown_parameter`):
/// checked before its entries are placed, since an open body would take any key as a field.
#[cold]
#[inline(never)]
pub fn refuse_named(provider: &Provider, op: &'static Operation, entries: &[(String, Value)]) -> Result<(), CallError> {
    if provider.credential_params.is_empty() {
        return Ok(());
    }
    let Some(index) = provider.operations.iter().position(|o| std::ptr::eq(o, op)) else { return Ok(()) };
    let named: Vec<String> = entries
        .iter()
        .filter(|(k, _)| provider.credential_params.iter().any(|c| usize::from(c.op) == index && c.name == k))
        .map(|(k, _)| crate::args::printable(k))
        .collect();
    if named.is_empty() {
        return Ok(());
    }
    Err(CallError::UnknownParameter { call: op.call, names: named, hint: " (a credential parameter: the capability fills it from its handle)" })
}
