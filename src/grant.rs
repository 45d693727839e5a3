//! What a caller holds: the rights its binding's props grant, and sessions.
//!
//! Past the deployment's layer ([`crate::rights`]) a call may be narrowed twice more:
//!
//! - **By its binding.** A caller's deployer sets `props` on the service binding
//!   (`services = [{ binding = "STRIPE", service = "capa-stripe", props = { only = ["read"] } }]`);
//!   workerd hands them to each call as `this.ctx.props`. One deployed capability thus serves
//!   several callers with different rights, set where the caller is deployed, not in its code.
//!   Props travel with every call (bindings are cached per `env`, which all callers share).
//! - **By a session.** `withAuth(auth, rights)` returns an `RpcTarget` with the same resources,
//!   bound to that `auth` (fixed: a session's methods refuse `options.auth` whatever it holds,
//!   `null` included, so its holder cannot switch tenant or connected account, nor believe it
//!   did) and narrowed by `rights`; `attenuate(rights)` narrows it again. The holder can pass it
//!   on to code that never sees the key.
//!
//! Each layer compiles once, when it is made, into the set of operations it allows
//! ([`crate::rights::layer_text`]), and a session's is the intersection with the one it came
//! from: a session can only narrow. What the entry holds for a call is a *grant*, text only Rust
//! writes and reads:
//!
//! ```text
//! G<binding layer>\n<session layer>\n<who>\n<session options JSON, or nothing outside a session>
//! !<why>                                   a session that was refused when it was made
//! ```
//!
//! `<who>` is the caller identity the props name, for budgets ([`crate::budget`]) and later
//! audit records: `t<tenant>` (whose quota), else `c<caller>` (who is calling), else nothing.
//! Sessions keep their binding's.
//!
//! A layer is `*`, `x<hex>` (one bit per operation) or `!<why>` (props that name nothing: every
//! call through that binding is refused, fail closed, as the deployment's vars are). A grant is
//! made by [`props`], [`session`] and [`attenuate`] and kept in a private field of the entry's
//! objects, beyond any caller's reach: callers hold stubs, never the grant. The session's
//! credential lives there and nowhere else, so nothing outlives the session object; the grant
//! type prints no credential.
//!
//! `withAuth` never throws (every call resolves to an envelope): auth or rights that do not
//! validate make a session whose every call answers `invalid_argument` with why, and makes no
//! upstream call.
//!
//! What a caller hands in is bounded before it costs anything: rights lists as every layer's
//! are ([`rights::bounded`]: 256 entries of 256 bytes), and `withAuth`'s and `attenuate`'s
//! arguments at [`MAX_ARGUMENTS_JSON`] bytes of JSON, measured before they are parsed (a million
//! entries cost the capability a length check, not a million values).

use crate::args;
use crate::error::CallError;
use crate::rights::{self, Layer, Rights};
use crate::table::{Operation, Provider};
use crate::value::Value;

/// A grant as read for one call.
pub struct Held<'a> {
    binding: &'a str,
    session: &'a str,
    /// Who the binding's props say is calling: `t<tenant>`, `c<caller>` or `""`.
    pub who: &'a str,
    /// The session's options (`{"auth": ...}`), or `None` outside a session.
    options: Option<&'a str>,
}

impl std::fmt::Debug for Held<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held").field("binding", &self.binding).field("session", &self.session).field("in_session", &self.options.is_some()).finish()
    }
}

impl<'a> Held<'a> {
    /// The grant's text; a refused session's why as `invalid_argument`.
    pub fn read(grant: &'a str) -> Result<Self, CallError> {
        if let Some(why) = grant.strip_prefix('!') {
            return Err(CallError::invalid(why.to_owned()));
        }
        let mut parts = grant.strip_prefix('G').unwrap_or("!").splitn(4, '\n');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(binding), Some(session), Some(who), Some(options)) => Ok(Held { binding, session, who, options: (!options.is_empty()).then_some(options) }),
            // Only [`props`], [`session`] and [`attenuate`] write grants.
            _ => Err(CallError::Internal("a grant the runtime did not write")),
        }
    }

    /// The refusal of a call to `op` (at `index` in the table), if a layer refuses it.
    pub fn refusal(&self, provider: &'static Provider, op: &'static Operation, index: usize) -> Option<CallError> {
        let refused = |layer: &'static str, text: &str, why: &str| {
            let why = match text.strip_prefix('!') {
                Some(broken) => broken.to_owned(),
                None => why.to_owned(),
            };
            CallError::NotAllowed { capability: provider.capability, call: op.call, layer, why }
        };
        if !Layer(self.binding).allows(index) {
            return Some(refused("the caller's binding", self.binding, "(its props, set where the caller is deployed)"));
        }
        if !Layer(self.session).allows(index) {
            return Some(refused("the session", self.session, "(its rights: withAuth's, narrowed by each attenuate)"));
        }
        None
    }

    /// The session's options, parsed: `Some` in a session, whose auth replaces the call's.
    pub fn options(&self) -> Result<Option<Value>, CallError> {
        self.options.map(|text| crate::parse::parse(text).map_err(|_| CallError::Internal("a session's options did not parse"))).transpose()
    }
}

/// The grant of a binding's `props` (their JSON), or `""` when they narrow nothing and name no
/// one. Props hold rights (`only`, `except`, `readOnly`) and who is calling (`caller`, `tenant`);
/// any other key, or a malformed value, refuses every call through the binding.
pub fn props(provider: &Provider, json: &str) -> String {
    // A refused binding is a layer that refuses every call (`operation_not_allowed`, naming it).
    let refused = |why: String| format!("G!(its props {why}: every call through this binding is refused until they are fixed)\n*\n\n");
    let (layer, who) = match crate::parse::parse(json) {
        Ok(Value::Object(entries)) if entries.is_empty() => return String::new(),
        Ok(mut props @ Value::Object(_)) => {
            let who = match identity(&mut props) {
                Ok(who) => who,
                Err(why) => return refused(why),
            };
            match layer_of(provider, &props) {
                Ok(layer) => (layer, who),
                Err(why) => return refused(why),
            }
        }
        _ => return String::from("G!(its props are no object)\n*\n\n"),
    };
    if layer == "*" && who.is_empty() {
        return String::new();
    }
    format!("G{layer}\n*\n{who}\n")
}

/// The `<who>` of props' `caller` and `tenant` entries, taken out of `props` (the tenant first:
/// its quota is the bucket), or why one is refused.
fn identity(props: &mut Value) -> Result<String, String> {
    let Value::Object(entries) = props else { return Ok(String::new()) };
    let mut who = String::new();
    let mut i = 0;
    while i < entries.len() {
        let key = entries[i].0.as_str();
        if key != "tenant" && key != "caller" {
            i += 1;
            continue;
        }
        let (key, value) = entries.remove(i);
        let name = value.as_str().ok_or_else(|| format!("give `{key}` as a string, not {}", value.kind()))?;
        if let Some(fault) = crate::budget::name_fault(name) {
            return Err(format!("hold a `{key}` that {fault}"));
        }
        if who.is_empty() || key == "tenant" {
            who = format!("{}{name}", &key[..1]);
        }
    }
    Ok(who)
}

/// The grant of `withAuth(auth, rights)` (`json`: the argument array as the entry wrote it) made
/// through a binding whose grant is `from` (`""`: none).
pub fn session(provider: &Provider, from: &str, json: &str) -> String {
    let (binding, who) = match from.strip_prefix('G').map(|g| g.split('\n')) {
        Some(mut parts) => (parts.next().unwrap_or("!"), parts.nth(1).unwrap_or("")),
        None if from.is_empty() => ("*", ""),
        // A binding whose grant could not be made refuses every call; its sessions too.
        None if from.starts_with('!') => return from.to_owned(),
        None => return String::from("!a grant the runtime did not write; this session makes no call"),
    };
    let made = (|| -> Result<String, String> {
        let mut values = arguments(json, "withAuth", "auth and rights", 2)?.into_iter();
        let (auth, rights) = (values.next().unwrap_or(Value::Null), values.next().unwrap_or(Value::Null));
        // Validated now as `options.auth` is per call: what passes here passes on every call.
        let options = Value::Object(vec![(String::from("auth"), auth)]);
        args::check_options(&options, provider.call_headers).map_err(|e| format!("withAuth's auth was refused: {e}"))?;
        let layer = layer_of(provider, &rights).map_err(|why| format!("withAuth's rights {why}"))?;
        Ok(format!("G{binding}\n{layer}\n{who}\n{}", options.to_json()))
    })();
    made.unwrap_or_else(|why| format!("!{why}; this session makes no call"))
}

/// The grant of `attenuate(rights)` on the session whose grant is `from`: the intersection,
/// never wider.
pub fn attenuate(provider: &Provider, from: &str, json: &str) -> String {
    let Some(Ok(held)) = from.starts_with('G').then(|| Held::read(from)) else {
        // A refused session stays refused.
        return from.to_owned();
    };
    let Some(options) = held.options else { return String::from("!attenuate is a session's; this session makes no call") };
    let rights = match arguments(json, "attenuate", "rights", 1) {
        Ok(values) => values.into_iter().next().unwrap_or(Value::Null),
        Err(why) => return format!("!{why}; this session makes no call"),
    };
    match layer_of(provider, &rights) {
        Ok(layer) => format!("G{}\n{}\n{}\n{options}", held.binding, rights::intersect(held.session, &layer), held.who),
        Err(why) => format!("!attenuate's rights {why}; this session makes no call"),
    }
}

/// The most JSON text `withAuth`'s or `attenuate`'s arguments take: two rights lists at their
/// bounds ([`rights::MAX_ENTRIES`] entries of [`rights::MAX_ENTRY_LEN`] bytes, about 66 KB each
/// as JSON) and an auth fit with room to spare. Checked before the text is parsed, so a caller
/// cannot make the capability build a million values only to refuse them.
pub const MAX_ARGUMENTS_JSON: usize = 256 * 1024;

/// The arguments of `method` (`withAuth`, `attenuate`) as the entry wrote them, trailing `null`s
/// dropped (arguments left `undefined`), at most `max` of them (`takes` names them).
fn arguments(json: &str, method: &str, takes: &str, max: usize) -> Result<Vec<Value>, String> {
    if json.len() > MAX_ARGUMENTS_JSON {
        return Err(format!(
            "{method}'s arguments are {} bytes as JSON, more than its {takes} can hold (at most {MAX_ARGUMENTS_JSON}; a rights list holds at most {} entries of at most {} bytes)",
            json.len(),
            rights::MAX_ENTRIES,
            rights::MAX_ENTRY_LEN
        ));
    }
    let mut values = args::parse(json).map_err(|e| format!("{method}: {e}"))?;
    if json.starts_with('\u{1}') {
        return Err(format!("{method} takes no binary data"));
    }
    while values.last() == Some(&Value::Null) {
        values.pop();
    }
    if values.len() > max {
        return Err(format!("{method} takes {takes}, no more"));
    }
    Ok(values)
}

/// The layer text of `{ only?, except?, readOnly? }` (null: everything), or why it is none.
/// `only` and `except` are arrays of patterns (or one comma-separated string, as in the vars).
fn layer_of(provider: &Provider, rights: &Value) -> Result<String, String> {
    let entries = match rights {
        Value::Null => return Ok(String::from("*")),
        Value::Object(entries) => entries,
        other => return Err(format!("must be an object ({{ only?, except?, readOnly? }}), not {}", other.kind())),
    };
    let mut only: Option<Vec<&str>> = None;
    let mut except: Vec<&str> = Vec::new();
    let mut read_only = false;
    for (key, value) in entries {
        match key.as_str() {
            "only" => only = list(provider, key, value)?,
            "except" => except = list(provider, key, value)?.unwrap_or_default(),
            "readOnly" => match value {
                Value::Null | Value::Bool(false) => {}
                Value::Bool(true) => read_only = true,
                other => return Err(format!("give `readOnly` as true or false, not {}", other.kind())),
            },
            other => return Err(format!("hold `{}`, which is not one of only, except, readOnly", args::printable(other))),
        }
    }
    let rights = Rights::from_lists(provider, only, except, read_only).map_err(|fault| fault.describe(provider, true, quoted))?;
    Ok(rights::layer_text(provider, |op| rights.allows(op)))
}

/// An entry that names nothing, as a message quotes it: a short name as it is; one padded with
/// a character other than an ASCII space (`"read\u{a0}"`: only ASCII spaces are trimmed) says so;
/// anything else is not echoed (a session's messages reach whoever holds it).
fn quoted(entry: &str) -> String {
    let bare = entry.trim();
    if !args::is_printable(entry) && bare != entry && args::is_printable(bare) {
        return format!("`{bare}` with a character around it that is no ASCII space (only ASCII spaces are trimmed from an entry)");
    }
    format!("`{}`", args::printable(entry))
}

/// A list of patterns: an array of strings, or one comma-separated string; bounded as the
/// runtime bounds every rights list ([`rights::bounded`]), before anything else is read of it.
fn list<'v>(provider: &Provider, key: &str, value: &'v Value) -> Result<Option<Vec<&'v str>>, String> {
    let too_big = |fault: rights::Fault| fault.describe_in(provider, true, Some(key), quoted);
    match value {
        Value::Null => Ok(None),
        Value::String(s) => rights::bounded(s.split(',')).map(Some).map_err(too_big),
        Value::Array(items) if items.len() > rights::MAX_ENTRIES => Err(too_big(rights::Fault::TooMany)),
        Value::Array(items) => {
            let strings = items.iter().map(|i| i.as_str().ok_or_else(|| format!("list `{key}` holds {}, not a pattern string", i.kind())));
            rights::bounded(strings.collect::<Result<Vec<_>, _>>()?).map(Some).map_err(too_big)
        }
        other => Err(format!("give `{key}` as an array of patterns, not {}", other.kind())),
    }
}
