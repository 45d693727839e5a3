//! From a call's positional arguments to path values, a params value and options.
//!
//! The shape is stripe-node's: `retrieve(id, options?)`, `create(params, options?)`,
//! `update(id, params, options?)`. Path parameters come first, in template order. Then, when the
//! operation declares query, header or body parameters, one params value. Then `options`.
//!
//! With a single trailing object the question is whether it is params or options. It is options
//! when every key is an option key ([`OPTION_KEYS`]) and none of them is also a parameter the
//! operation declares; otherwise it is params. An operation with a parameter named like an
//! option key (say `auth`) thus reads `{ auth }` as params, and takes options only in the
//! options slot: `call(id, params_or_null, { auth })`.
//!
//! Trailing `null`s are dropped first: `undefined` arguments arrive as `null` through
//! `JSON.stringify`, so `retrieve("cus_1", undefined)` is `retrieve("cus_1")`.

use crate::error::CallError;
use crate::header;
use crate::secret::Secret;
use crate::table::{Body, Operation};
use crate::value::Value;

/// Keys of the options object. A trailing object made of these alone is options.
pub const OPTION_KEYS: &[&str] = &["auth", "maxRetries", "idempotencyKey", "timeoutMs", "pages"];

/// Keys of `options.auth` (and of a session's auth, `withAuth(auth)`): what [`parse_options`]
/// reads; any other key is refused. docs/contract.md names each (`tests/docs.rs`).
pub const AUTH_KEYS: &[&str] = &["apiKey", "username", "password", "headers", "params"];

/// The call's arguments, sorted by role.
#[derive(Debug)]
pub struct Args {
    /// One value per path parameter, in template order, not yet checked.
    pub path: Vec<Value>,
    /// The params value: an object of named parameters, or the body itself for operations whose
    /// body is not an object. `None` when not given.
    pub params: Option<Value>,
    pub options: CallOptions,
    /// Whether the arguments hold binary data anywhere (set by the caller of [`split`] from
    /// what [`parse`] read): only then are values searched for it.
    pub binaries: bool,
}

/// What `options` asked for.
#[derive(Debug, Default)]
pub struct CallOptions {
    /// `options.auth.apiKey` (or `password`, its name for basic): replaces the Worker secret
    /// for this call.
    pub api_key: Option<Secret>,
    /// `options.auth.username`: a basic pair's user name for this call (see [`crate::auth`]).
    pub username: Option<Secret>,
    /// `options.auth.headers`, matched to the allow-list: canonical name and value.
    pub headers: Vec<(&'static str, Secret)>,
    /// `options.auth.params`: values of the provider's credential parameters ([`crate::creds`])
    /// for this call, by parameter name (checked against the table when the request is built).
    pub params: Vec<(String, Secret)>,
    /// `options.maxRetries`: retries after a transient failure, 0 to [`crate::retry::MAX_RETRIES`].
    pub max_retries: Option<u8>,
    /// `options.idempotencyKey`: sent as the provider's idempotency header on a POST or PATCH,
    /// on every attempt (1 to 255 printable ASCII characters).
    pub idempotency_key: Option<String>,
    /// `options.timeoutMs`: how long the call may take, attempts and waits together, 1 to
    /// [`crate::retry::MAX_DEADLINE_MS`].
    pub timeout_ms: Option<u64>,
    /// `options.pages`: walk the operation's pages into one result ([`crate::pages`]).
    pub pages: Option<crate::pages::Limits>,
}

/// The argument array, from the JSON text the entry made of it (`src/js/args.js`), which may
/// instead report the first value JSON cannot carry: `"\0"` and `[kind, ...path]`.
#[inline(never)]
pub fn parse(args_json: &str) -> Result<Vec<Value>, CallError> {
    if let Some(rest) = args_json.strip_prefix('\u{1}') {
        return with_binaries(rest);
    }
    match crate::parse::parse(args_json) {
        Ok(Value::Array(values)) => Ok(values),
        Ok(_) => Err(unreadable(args_json, None)),
        Err(e) => Err(unreadable(args_json, Some(e))),
    }
}

/// Arguments holding binary data: `<reports>\u{1}<arguments>`, the arguments' JSON with `null`
/// where each binary was, and a report `[size, type, name, ...path]` for each, in the order of
/// the entry's list of them (`src/js/args.js`). Each `null` becomes a [`Value::Binary`].
#[cold]
#[inline(never)]
fn with_binaries(text: &str) -> Result<Vec<Value>, CallError> {
    let broken = || CallError::invalid("arguments with binary data could not be read");
    let (reports, json) = text.split_once('\u{1}').ok_or_else(broken)?;
    let mut values = parse(json)?;
    let Ok(Value::Array(reports)) = crate::parse::parse(reports) else { return Err(broken()) };
    for (index, report) in reports.into_iter().enumerate() {
        let Value::Array(items) = report else { return Err(broken()) };
        let mut items = items.into_iter();
        let (Some(Value::Number(size)), Some(Value::String(media_type)), Some(Value::String(name))) = (items.next(), items.next(), items.next()) else {
            return Err(broken());
        };
        let index_of = |step: &Value| match step {
            Value::Number(i) => i.as_str().parse::<usize>().ok(),
            _ => None,
        };
        let first = items.next().ok_or_else(broken)?;
        let mut slot = index_of(&first).and_then(|i| values.get_mut(i));
        for step in items {
            slot = match (slot, &step) {
                (Some(Value::Array(items)), Value::Number(_)) => index_of(&step).and_then(|i| items.get_mut(i)),
                (Some(Value::Object(entries)), Value::String(key)) => entries.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
                _ => None,
            };
        }
        let slot = slot.filter(|v| **v == Value::Null).ok_or_else(broken)?;
        *slot = Value::Binary(Box::new(crate::value::Binary {
            index: index as u32,
            size: size.as_str().parse().map_err(|_| broken())?,
            media_type,
            name,
        }));
    }
    Ok(values)
}

/// Why the arguments could not be read, as the caller can act on it.
#[cold]
#[inline(never)]
fn unreadable(args_json: &str, error: Option<crate::parse::ParseError>) -> CallError {
    const JSON_ONLY: &str = "only JSON values are sent: null, booleans, finite numbers, strings, arrays and plain objects";
    let Some(report) = args_json.strip_prefix('\0') else {
        return match error {
            // Parse errors name what failed and where, never the text itself.
            Some(e) => CallError::invalid(format!("arguments could not be read ({e}); {JSON_ONLY}")),
            None => CallError::invalid(format!("arguments must arrive as an array; {JSON_ONLY}")),
        };
    };
    let report = match crate::parse::parse(report) {
        Ok(Value::Array(items)) => items.into_iter().filter_map(|v| if let Value::String(s) = v { Some(s) } else { None }).collect(),
        _ => Vec::new(),
    };
    let (kind, path) = report.split_first().map_or(("unserializable", &[][..]), |(k, p)| (k.as_str(), p));
    let mut at = String::from("argument");
    for (i, key) in path.iter().enumerate() {
        if i == 8 {
            at.push('…');
            break;
        }
        match (i, key.parse::<u32>()) {
            (0, Ok(n)) => at.push_str(&format!(" {}", n + 1)),
            (_, Ok(n)) => at.push_str(&format!("[{n}]")),
            (_, Err(_)) => at.push_str(&format!(".{}", printable(key))),
        }
    }
    let what = match kind {
        "depth" => return CallError::invalid(format!("{at} is nested deeper than 127 levels (the argument list is the first), or holds itself")),
        "unserializable" => "a value JSON cannot write".to_owned(),
        "function" => "a function (a stub, over RPC)".to_owned(),
        "bigint" => "a BigInt (send it as a string or a number)".to_owned(),
        "symbol" => "a Symbol".to_owned(),
        "undefined" => "undefined inside an array (JSON would send null)".to_owned(),
        "NaN" | "Infinity" | "-Infinity" => format!("{kind} (JSON would send null)"),
        "Date" => "a Date (send a Unix timestamp or date.toISOString())".to_owned(),
        other => format!("a {} (JSON would send it as an object, or drop it)", printable(other)),
    };
    CallError::invalid(format!("{at} is {what}; {JSON_ONLY}"))
}

/// Whether the operation takes a params argument at all.
pub fn takes_params(op: &Operation) -> bool {
    !op.params.is_empty() || op.body.open() || matches!(op.body, Body::JsonValue | Body::Text(_) | Body::Binary(_))
}

/// Splits the arguments of a call to `op`.
#[inline(never)]
pub fn split(op: &Operation, call_headers: &'static [&'static str], args: Vec<Value>) -> Result<Args, CallError> {
    split_with(op, call_headers, args, false)
}

/// [`split`]; `fixed`: a session's call, whose options may not carry `auth`.
fn split_with(op: &Operation, call_headers: &'static [&'static str], mut args: Vec<Value>, fixed: bool) -> Result<Args, CallError> {
    let n = op.path_params.len();
    if args.len() < n {
        return Err(CallError::invalid(format!(
            "{} takes {} path argument(s) ({}) before params and options; got {}",
            op.call,
            n,
            op.path_params.join(", "),
            args.len()
        )));
    }
    while args.len() > n && args.last() == Some(&Value::Null) {
        args.pop();
    }
    // What follows the path arguments is popped off the end, leaving `args` the path values.
    let rest = args.len() - n;

    let takes = takes_params(op);
    let max = if takes { 2 } else { 1 };
    if rest > max {
        return Err(CallError::invalid(format!(
            "{} takes {}{}options; got {} argument(s) after the path arguments",
            op.call,
            if n > 0 { "its path arguments, " } else { "" },
            if takes { "params, then " } else { "" },
            rest
        )));
    }

    let (params, options) = match (rest, takes) {
        (0, _) => (None, None),
        (1, true) => {
            let only = args.pop();
            if only.as_ref().is_some_and(|v| is_options(v, op)) {
                (None, only)
            } else {
                (only, None)
            }
        }
        (1, false) => {
            let only = args.pop().unwrap_or(Value::Null);
            if !is_options(&only, op) {
                if let Value::Object(entries) = &only {
                    return Err(CallError::UnknownParameter {
                        call: op.call,
                        names: entries.iter().map(|(k, _)| k.clone()).collect(),
                        hint: "; it takes no parameters, and its options are: auth, maxRetries, idempotencyKey, timeoutMs, pages",
                    });
                }
                return Err(CallError::invalid(format!(
                    "{}: the argument after the path arguments is options, an object; got {}",
                    op.call,
                    only.kind()
                )));
            }
            (None, Some(only))
        }
        _ => {
            let options = args.pop();
            let params = args.pop().filter(|p| *p != Value::Null);
            (params, options)
        }
    };

    Ok(Args {
        path: args,
        params,
        options: match options {
            Some(v) => parse_options(&v, call_headers, fixed)?,
            None => CallOptions::default(),
        },
        binaries: false,
    })
}

/// Every string a call passed as a credential (`auth.apiKey`, `auth.password`, secret
/// `auth.headers`, `auth.params`) in its last two arguments, read before the arguments are judged: a call
/// refused for a malformed option must not echo a key it carried elsewhere in the same options.
pub fn credential_strings<'a>(args: &'a [Value], secret_headers: &'a [&'a str]) -> impl Iterator<Item = &'a str> {
    args.iter().rev().take(2).filter_map(|a| a.get("auth")).flat_map(move |auth| {
        let key = auth.get("apiKey").and_then(Value::as_str);
        let password = auth.get("password").and_then(Value::as_str);
        let headers = auth.get("headers").and_then(Value::as_object).unwrap_or_default();
        let secret = headers.iter().filter(|(name, _)| secret_headers.iter().any(|h| h.eq_ignore_ascii_case(name)));
        // (Only builds with credential parameters take them: `capa_creds`.)
        #[cfg(capa_creds)]
        let params = auth.get("params").and_then(Value::as_object).unwrap_or_default();
        #[cfg(not(capa_creds))]
        let params: &[(String, Value)] = &[];
        key.into_iter().chain(password).chain(secret.filter_map(|(_, v)| v.as_str())).chain(params.iter().filter_map(|(_, v)| v.as_str()))
    })
}

/// The basic user name a call passed (`auth.username`), read like [`credential_strings`]: a
/// context value, kept out of receipts.
pub fn call_username(args: &[Value]) -> Option<&str> {
    args.iter().rev().take(2).filter_map(|a| a.get("auth")).find_map(|auth| auth.get("username").and_then(Value::as_str))
}

fn is_options(value: &Value, op: &Operation) -> bool {
    match value.as_object() {
        Some(entries) if !entries.is_empty() => entries
            .iter()
            .all(|(k, _)| OPTION_KEYS.contains(&k.as_str()) && !op.params.iter().any(|p| p.name == k)),
        _ => false,
    }
}

/// Whether `options` (an options object) would pass as a call's, for a session's auth checked
/// when the session is made.
pub fn check_options(options: &Value, call_headers: &'static [&'static str]) -> Result<(), CallError> {
    parse_options(options, call_headers, false).map(drop)
}

/// The arguments of a session's call: as [`split`], but options may not carry `auth` (the
/// holder cannot switch tenant or connected account), and the session's own options, `session`,
/// take their place.
#[inline(never)]
pub fn split_in_session(op: &Operation, call_headers: &'static [&'static str], args: Vec<Value>, session: &Value) -> Result<Args, CallError> {
    let mut args = split_with(op, call_headers, args, true)?;
    // The call's own options stand (retries, a key, a deadline); its credentials are the
    // session's.
    let session = parse_options(session, call_headers, false)?;
    args.options.api_key = session.api_key;
    args.options.username = session.username;
    args.options.headers = session.headers;
    args.options.params = session.params;
    Ok(args)
}

#[inline(never)]
fn parse_options(value: &Value, call_headers: &'static [&'static str], fixed: bool) -> Result<CallOptions, CallError> {
    let entries = match value {
        Value::Null => return Ok(CallOptions::default()),
        Value::Object(entries) => entries,
        other => return Err(CallError::invalid(format!("options must be an object, not {}", other.kind()))),
    };
    let mut options = CallOptions::default();
    for (key, value) in entries {
        match key.as_str() {
            // A session's method: whatever `auth` holds, `null` included, it is refused as such,
            // before it is judged. `null` asks for nothing, but a caller who writes it believes
            // it chooses the credentials; it is told they are the session's instead. (An
            // `undefined` auth never arrives: JSON drops the member.)
            "auth" if fixed => {
                return Err(CallError::invalid(
                    "this is a session's method: its auth is fixed by withAuth, and options.auth is refused whatever it holds, null too (make another session for other credentials)",
                ))
            }
            "auth" => parse_auth(value, call_headers, &mut options)?,
            "maxRetries" => options.max_retries = whole(value, "maxRetries", u64::from(crate::retry::MAX_RETRIES), 0)?.map(|n| n as u8),
            "timeoutMs" => options.timeout_ms = whole(value, "timeoutMs", crate::retry::MAX_DEADLINE_MS, 1)?,
            "idempotencyKey" => options.idempotency_key = idempotency_key(value)?,
            "pages" => options.pages = pages(value)?,
            other => {
                return Err(CallError::invalid(format!(
                    "unknown option `{}`; options are: {}",
                    printable(other),
                    OPTION_KEYS.join(", ")
                )))
            }
        }
    }
    Ok(options)
}

/// An option that is a whole number from `min` to `max` (`null`: not given).
fn whole(value: &Value, name: &str, max: u64, min: u64) -> Result<Option<u64>, CallError> {
    let n = match value {
        Value::Null => return Ok(None),
        Value::Number(n) => n.as_str().parse::<u64>().ok(),
        _ => None,
    };
    match n {
        Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(CallError::invalid(format!("options.{name} must be a whole number from {min} to {max}, not {}", match value {
            Value::Number(n) => n.as_str().chars().take(24).collect::<String>(),
            other => other.kind().to_owned(),
        }))),
    }
}

/// `options.pages`: `{ maxItems?, maxPages? }` (`null`: not given), each a whole number within
/// [`crate::pages`]'s maxima; neither given, the defaults.
fn pages(value: &Value) -> Result<Option<crate::pages::Limits>, CallError> {
    use crate::pages::{Limits, MAX_ITEMS, MAX_PAGES};
    let entries = match value {
        Value::Null => return Ok(None),
        Value::Object(entries) => entries,
        other => return Err(CallError::invalid(format!("options.pages must be an object ({{ maxItems?, maxPages? }}), not {}", other.kind()))),
    };
    let mut limits = Limits::default();
    for (key, value) in entries {
        match key.as_str() {
            "maxItems" => limits.max_items = whole(value, "pages.maxItems", u64::from(MAX_ITEMS), 1)?.map_or(limits.max_items, |n| n as u32),
            "maxPages" => limits.max_pages = whole(value, "pages.maxPages", u64::from(MAX_PAGES), 1)?.map_or(limits.max_pages, |n| n as u32),
            other => return Err(CallError::invalid(format!("unknown member `{}` of options.pages; it takes maxItems and maxPages", printable(other)))),
        }
    }
    Ok(Some(limits))
}

/// `options.idempotencyKey`: 1 to 255 printable ASCII characters, as a header carries them (no
/// space at either end). A key is no credential, but it travels in a header.
fn idempotency_key(value: &Value) -> Result<Option<String>, CallError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if (1..=255).contains(&s.len()) && header::value_fault(s).is_none() => Ok(Some(s.clone())),
        Value::String(s) => Err(CallError::invalid(format!(
            "options.idempotencyKey must be 1 to 255 printable ASCII characters, no space at either end; got {} characters{}",
            s.chars().count(),
            header::value_fault(s).map_or(String::new(), |f| format!(": it {f}"))
        ))),
        other => Err(CallError::invalid(format!("options.idempotencyKey must be a string, not {}", other.kind()))),
    }
}

fn parse_auth(value: &Value, call_headers: &'static [&'static str], options: &mut CallOptions) -> Result<(), CallError> {
    let entries = match value {
        Value::Null => return Ok(()),
        Value::Object(entries) => entries,
        other => return Err(CallError::invalid(format!("options.auth must be an object, not {}", other.kind()))),
    };
    for (key, value) in entries {
        match key.as_str() {
            "apiKey" | "password" | "username" => match value {
                Value::Null => {}
                Value::String(s) => match header::value_fault(s) {
                    None if key == "username" => options.username = Some(Secret::new(s.clone())),
                    None if options.api_key.is_some() => {
                        return Err(CallError::invalid("options.auth takes apiKey or password, not both: they are one credential"))
                    }
                    None => options.api_key = Some(Secret::new(s.clone())),
                    Some(fault) => return Err(CallError::invalid(format!("options.auth.{key} {fault}"))),
                },
                other => return Err(CallError::invalid(format!("options.auth.{key} must be a string, not {}", other.kind()))),
            },
            "headers" => {
                let headers = match value {
                    Value::Null => continue,
                    Value::Object(h) => h,
                    other => {
                        return Err(CallError::invalid(format!(
                            "options.auth.headers must be an object of header names to strings, not {}",
                            other.kind()
                        )))
                    }
                };
                for (name, value) in headers {
                    let Some(canonical) = call_headers.iter().find(|h| h.eq_ignore_ascii_case(name)) else {
                        return Err(CallError::HeaderNotAllowed { name: printable(name), allowed: call_headers });
                    };
                    // Two spellings of one name would reach the upstream as one header holding
                    // both values, joined by a comma.
                    if options.headers.iter().any(|(n, _)| n == canonical) {
                        return Err(CallError::invalid(format!("options.auth.headers names `{canonical}` twice")));
                    }
                    let fault = match value {
                        Value::String(s) => match header::value_fault(s) {
                            None => {
                                options.headers.push((canonical, Secret::new(s.clone())));
                                continue;
                            }
                            Some(fault) => fault.to_owned(),
                        },
                        other => format!("must be a string, not {}", other.kind()),
                    };
                    return Err(CallError::invalid(format!("options.auth.headers[`{canonical}`] {fault}")));
                }
            }
            // Only a build whose table has credential parameters reads them (`capa_creds`).
            #[cfg(not(capa_creds))]
            "params" => return Err(CallError::invalid("options.auth.params: this provider has no credential parameters")),
            #[cfg(capa_creds)]
            "params" => {
                let params = match value {
                    Value::Null => continue,
                    Value::Object(p) => p,
                    other => {
                        return Err(CallError::invalid(format!(
                            "options.auth.params must be an object of credential parameter names to strings, not {}",
                            other.kind()
                        )))
                    }
                };
                for (name, value) in params {
                    // What a header may carry, wherever the parameter travels: a credential a
                    // header could not hold is a mistake (a newline from a file), not a token.
                    let fault = match value {
                        Value::String(s) => match header::value_fault(s) {
                            None => {
                                options.params.push((name.clone(), Secret::new(s.clone())));
                                continue;
                            }
                            Some(fault) => fault.to_owned(),
                        },
                        other => format!("must be a string, not {}", other.kind()),
                    };
                    return Err(CallError::invalid(format!("options.auth.params[`{}`] {fault}", printable(name))));
                }
            }
            other => {
                return Err(CallError::invalid(format!(
                    "unknown key `{}` in options.auth; it takes apiKey (or username and password), headers and params",
                    printable(other)
                )))
            }
        }
    }
    Ok(())
}

/// A caller-supplied name fit to quote in a message: short token characters only, so an error
/// never carries more than a name back (not a pasted key, not a control sequence).
pub fn printable(name: &str) -> String {
    if is_printable(name) {
        name.to_owned()
    } else {
        "<unprintable name>".to_owned()
    }
}

/// Whether [`printable`] quotes `name` as it is.
pub fn is_printable(name: &str) -> bool {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    name.len() <= 64 && name.chars().all(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;
    use crate::table::{At, AuthUse, Method, Param, Style};

    const HEADERS: &[&str] = &["Stripe-Account"];

    static RETRIEVE: Operation = Operation {
        id: "GetCustomersCustomer",
        call: "customers.retrieve",
        method: Method::Get,
        path: "/v1/customers/{customer}",
        server: 0,
        path_params: &["customer"],
        multi: 0,
        params: &[Param { name: "expand", at: At::Query(Style::DeepObject), required: false }],
        body: Body::None,
        auth: AuthUse::Required,
        scheme: 0,
        classes: 1,
    };

    static DEL: Operation = Operation {
        id: "DeleteCustomersCustomer",
        call: "customers.del",
        method: Method::Delete,
        path: "/v1/customers/{customer}",
        server: 0,
        path_params: &["customer"],
        multi: 0,
        params: &[],
        body: Body::None,
        auth: AuthUse::Required,
        scheme: 0,
        classes: 1,
    };

    static WITH_AUTH_PARAM: Operation = Operation {
        id: "Odd",
        call: "odd.create",
        method: Method::Post,
        path: "/odd",
        server: 0,
        path_params: &[],
        multi: 0,
        params: &[Param { name: "auth", at: At::Body, required: false }],
        body: Body::Json { open: false },
        auth: AuthUse::Required,
        scheme: 0,
        classes: 1,
    };

    fn args(json: &str) -> Vec<Value> {
        match crate::parse::parse(json).unwrap() {
            Value::Array(items) => items,
            _ => unreachable!(),
        }
    }

    #[test]
    fn lone_options_object_is_options() {
        let a = split(&RETRIEVE, HEADERS, args(r#"["cus_1",{"auth":{"apiKey":"sk_call"}}]"#)).unwrap();
        assert!(a.params.is_none());
        assert_eq!(a.options.api_key.unwrap().expose(), "sk_call");
    }

    #[test]
    fn lone_params_object_is_params() {
        let a = split(&RETRIEVE, HEADERS, args(r#"["cus_1",{"expand":["sources"]}]"#)).unwrap();
        assert!(a.params.unwrap().get("expand").is_some());
        assert!(a.options.api_key.is_none());
    }

    #[test]
    fn params_then_options() {
        let a = split(&RETRIEVE, HEADERS, args(r#"["cus_1",null,{"auth":{"headers":{"stripe-account":"acct_1"}}}]"#)).unwrap();
        assert!(a.params.is_none());
        assert_eq!(a.options.headers[0].0, "Stripe-Account");
        assert_eq!(a.options.headers[0].1.expose(), "acct_1");
    }

    #[test]
    fn trailing_nulls_are_undefined_arguments() {
        let a = split(&DEL, HEADERS, args(r#"["cus_1",null]"#)).unwrap();
        assert_eq!(a.path.len(), 1);
    }

    #[test]
    fn a_declared_param_named_like_an_option_stays_a_param() {
        let a = split(&WITH_AUTH_PARAM, HEADERS, args(r#"[{"auth":"x"}]"#)).unwrap();
        assert!(a.params.is_some());
        let a = split(&WITH_AUTH_PARAM, HEADERS, args(r#"[null,{"auth":{"apiKey":"k"}}]"#)).unwrap();
        assert!(a.params.is_none() && a.options.api_key.is_some());
    }

    #[test]
    fn refusals_are_typed() {
        let code = |op, json| split(op, HEADERS, args(json)).unwrap_err().code();
        assert_eq!(code(&RETRIEVE, "[]"), Code::InvalidArgument);
        assert_eq!(code(&RETRIEVE, r#"["c",{},{},{}]"#), Code::InvalidArgument);
        assert_eq!(code(&DEL, r#"["c",{"expand":["x"]}]"#), Code::UnknownParameter);
        assert_eq!(code(&DEL, r#"["c",5]"#), Code::InvalidArgument);
        assert_eq!(code(&RETRIEVE, r#"["c",null,{"retries":1}]"#), Code::InvalidArgument);
        assert_eq!(code(&RETRIEVE, r#"["c",{"auth":{"headers":{"Authorization":"x"}}}]"#), Code::HeaderNotAllowed);
        assert_eq!(code(&RETRIEVE, r#"["c",{"auth":{"apiKey":""}}]"#), Code::InvalidArgument);
        assert_eq!(code(&RETRIEVE, r#"["c",{"auth":{"apiKey":"a\nb"}}]"#), Code::InvalidArgument);
        assert_eq!(code(&RETRIEVE, r#"["c",{"auth":{"headers":{"Stripe-Account":7}}}]"#), Code::InvalidArgument);
    }

    #[test]
    fn auth_keys_are_the_keys_options_auth_takes() {
        for key in AUTH_KEYS {
            let value = if matches!(*key, "headers" | "params") { "{}" } else { r#""x""# };
            let options = crate::parse::parse(&format!(r#"{{"auth":{{"{key}":{value}}}}}"#)).unwrap();
            assert!(check_options(&options, HEADERS).is_ok(), "options.auth.{key} refused");
        }
        let options = crate::parse::parse(r#"{"auth":{"token":"x"}}"#).unwrap();
        assert!(check_options(&options, HEADERS).unwrap_err().to_string().contains("unknown key `token`"));
    }

    #[test]
    fn credential_strings_are_keys_and_secret_header_values_only() {
        let a = args(r#"["c",{"expand":["x"]},{"auth":{"apiKey":"k1","headers":{"x-secret":"s1","Stripe-Account":"acct_1"}}}]"#);
        let found: Vec<&str> = credential_strings(&a, &["X-Secret"]).collect();
        assert_eq!(found, ["k1", "s1"]);
        // Credential parameters' values are credentials, every one.
        let a = args(r#"["c",{"auth":{"params":{"token":"t1","key":"k2"}}}]"#);
        assert_eq!(credential_strings(&a, &[]).collect::<Vec<_>>(), ["t1", "k2"]);
        let options = crate::parse::parse(r#"{"auth":{"params":{"token":7}}}"#).unwrap();
        assert!(check_options(&options, HEADERS).is_err());
        let options = crate::parse::parse(r#"{"auth":{"params":["t"]}}"#).unwrap();
        assert!(check_options(&options, HEADERS).is_err());
    }

    #[test]
    fn binary_reports_become_binary_values_where_they_say() {
        let values = parse("\u{1}[[3,\"image/png\",\"a.png\",1,\"files\",0],[2,\"\",\"\",0]]\u{1}[null,{\"files\":[null,\"x\"]}]").unwrap();
        let Value::Binary(first) = &values[0] else { panic!("{values:?}") };
        assert_eq!((first.index, first.size, first.media_type.as_str(), first.name.as_str()), (1, 2, "", ""));
        let files = values[1].get("files").unwrap();
        let Value::Array(items) = files else { panic!() };
        let Value::Binary(b) = &items[0] else { panic!("{items:?}") };
        assert_eq!((b.index, b.size, b.media_type.as_str(), b.name.as_str()), (0, 3, "image/png", "a.png"));
        assert_eq!(items[1], Value::String("x".into()));
        // A report that points at no null, or nowhere, is refused, never guessed at.
        for broken in ["\u{1}[[1,\"\",\"\",0]]\u{1}[\"x\"]", "\u{1}[[1,\"\",\"\",3]]\u{1}[null]", "\u{1}[[1,\"\",\"\",0,\"k\"]]\u{1}[[null]]", "\u{1}[[1]]\u{1}[null]", "\u{1}[]"] {
            assert_eq!(parse(broken).unwrap_err().code(), Code::InvalidArgument, "{broken:?}");
        }
    }

    #[test]
    fn values_json_cannot_carry_are_named_with_where_they_are() {
        let message = |json: &str| parse(json).unwrap_err().to_string();
        assert_eq!(
            message("\0[\"Map\",\"1\",\"metadata\",\"tags\",\"2\"]"),
            "argument 2.metadata.tags[2] is a Map (JSON would send it as an object, or drop it); only JSON values are sent: null, booleans, finite numbers, strings, arrays and plain objects"
        );
        assert!(message("\0[\"NaN\",\"0\",\"amount\"]").starts_with("argument 1.amount is NaN (JSON would send null)"));
        assert!(message("\0[\"depth\",\"0\",\"a\"]").contains("nested deeper than 127 levels"));
        assert!(message("\0[\"function\",\"0\",\"sk_live_x y\"]").starts_with("argument 1.<unprintable name> is a function"));
        assert!(message("").starts_with("arguments could not be read"));
        assert!(message("{}").starts_with("arguments must arrive as an array"));
        // The entry refuses nesting past 127 levels itself (src/js/args.js, MAX_DEPTH), because
        // that is where this parser stops: 127 levels read, 128 do not.
        assert!(parse(&format!("{}{}", "[".repeat(127), "]".repeat(127))).is_ok());
        assert!(parse(&format!("{}{}", "[".repeat(128), "]".repeat(128))).is_err());
        let deep = format!("[{}{}]", "[".repeat(200), "]".repeat(200));
        assert!(message(&deep).contains("nested deeper than 127 levels"), "{}", message(&deep));
        assert_eq!(parse("[1,\"a\",null]").unwrap().len(), 3);
    }

    #[test]
    fn refused_header_names_are_quoted_only_when_harmless() {
        let e = split(&RETRIEVE, HEADERS, args(r#"["c",{"auth":{"headers":{"sk_live_x y":"v"}}}]"#)).unwrap_err();
        assert!(e.to_string().contains("<unprintable name>"), "{e}");
    }
}
