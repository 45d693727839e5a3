//! Rights: which operations a caller may invoke, narrowed layer by layer.
//!
//! A capability Worker offers every operation of its API unless its deployment says less. Each
//! layer is a [`Rights`]: `only` (the union of its patterns; absent, everything), `except`
//! (removed), `readOnly` (the `read` class alone). A pattern is `resource.method`,
//! `resource.*` (everything below `resource`, any depth) or the name of a class (`read`,
//! `write`, `destructive`, and the manifest's, Stripe's `money`: `generator/src/classes.rs`).
//! An operation is allowed when every layer allows it: layers only ever intersect.
//!
//! Today's layer is the **deployment**'s, from wrangler vars read once per `env`:
//!
//! ```toml
//! [env.stripe.vars]
//! CAPA_ONLY = "customers.*, paymentIntents.*"   # comma-separated patterns
//! CAPA_EXCEPT = "money, destructive"
//! CAPA_READ_ONLY = "true"
//! ```
//!
//! A pattern that names no class and no operation fails closed: every call is
//! `operation_not_allowed`, naming the var and the entry, because a typo in `CAPA_EXCEPT`
//! (`mony`) must not quietly allow what it meant to forbid. Refused calls make no upstream
//! request.

use crate::error::CallError;
use crate::table::{Operation, Provider};

/// Wrangler vars of the deployment's layer.
pub const ONLY_VAR: &str = "CAPA_ONLY";
pub const EXCEPT_VAR: &str = "CAPA_EXCEPT";
pub const READ_ONLY_VAR: &str = "CAPA_READ_ONLY";

/// Bit of the `read` class in [`Operation::classes`].
const READ: u8 = 1;

/// One entry of `only` or `except`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    /// `resource.method`: that operation.
    Call(String),
    /// `resource.*`: everything whose call begins `resource.`.
    Below(String),
    /// A class: its bit.
    Class(u8),
}

impl Pattern {
    fn matches(&self, op: &Operation) -> bool {
        match self {
            Pattern::Call(call) => op.call == call,
            Pattern::Below(prefix) => op.call.len() > prefix.len() && op.call.starts_with(prefix.as_str()) && op.call.as_bytes()[prefix.len()] == b'.',
            Pattern::Class(bit) => op.classes & bit != 0,
        }
    }
}

/// One layer's rights.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rights {
    only: Option<Vec<Pattern>>,
    except: Vec<Pattern>,
    read_only: bool,
}

impl Rights {
    /// From a layer's lists, each entry resolved against `provider`'s classes and operations;
    /// `Err(entry)`: the first entry that names neither (the layer then refuses everything).
    pub fn from_lists<'a>(
        provider: &Provider,
        only: Option<impl IntoIterator<Item = &'a str>>,
        except: impl IntoIterator<Item = &'a str>,
        read_only: bool,
    ) -> Result<Self, String> {
        Ok(Rights { only: only.map(|o| patterns(provider, o)).transpose()?, except: patterns(provider, except)?, read_only })
    }

    /// Whether this layer allows `op`.
    pub fn allows(&self, op: &Operation) -> bool {
        (!self.read_only || op.classes & READ != 0)
            && self.only.as_ref().is_none_or(|only| only.iter().any(|p| p.matches(op)))
            && !self.except.iter().any(|p| p.matches(op))
    }
}

/// Which of `provider`'s operations a layer allows, as text: `*` (all of them) or `x` and one
/// hex digit per four operations, bit `i % 4` of digit `i / 4` for operation `i`: read per call
/// by [`Layer::allows`] without being decoded (see [`crate::grant`]).
pub fn layer_text(provider: &Provider, allows: impl Fn(&Operation) -> bool) -> String {
    let ops = provider.operations;
    if ops.iter().all(&allows) {
        return String::from("*");
    }
    let mut text = String::with_capacity(1 + ops.len().div_ceil(4));
    text.push('x');
    for four in ops.chunks(4) {
        let digit = four.iter().enumerate().fold(0u32, |d, (i, op)| if allows(op) { d | 1 << i } else { d });
        text.push(char::from_digit(digit, 16).unwrap_or('0'));
    }
    text
}

/// A layer's text as [`layer_text`] wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layer<'a>(pub &'a str);

impl Layer<'_> {
    /// Whether the layer allows operation `index`; text that is no layer allows nothing.
    pub fn allows(self, index: usize) -> bool {
        if self.0 == "*" {
            return true;
        }
        let Some(digits) = self.0.strip_prefix('x') else { return false };
        digits.as_bytes().get(index / 4).and_then(|d| char::from(*d).to_digit(16)).is_some_and(|d| d & 1 << (index % 4) != 0)
    }
}

/// The operations both layers allow, as layer text.
pub fn intersect(a: &str, b: &str) -> String {
    match (a, b) {
        ("*", other) | (other, "*") => other.to_owned(),
        _ => {
            let (a, b) = (a.strip_prefix('x').unwrap_or(""), b.strip_prefix('x').unwrap_or(""));
            let digit = |d: Option<&u8>| d.and_then(|d| char::from(*d).to_digit(16)).unwrap_or(0);
            let mut text = String::from("x");
            for i in 0..a.len().max(b.len()) {
                text.push(char::from_digit(digit(a.as_bytes().get(i)) & digit(b.as_bytes().get(i)), 16).unwrap_or('0'));
            }
            text
        }
    }
}

/// The deployment's layer as its vars set it: `None` when they set nothing (the plain path
/// checks nothing more), or why it refuses every call.
#[derive(Debug, Default)]
pub enum Deployment {
    #[default]
    Open,
    Narrowed(Rights),
    /// A var names something that is no class and no operation (var, entry).
    Broken(&'static str, String),
}

impl Deployment {
    /// From the vars' values.
    pub fn read(provider: &Provider, only: Option<&str>, except: Option<&str>, read_only: Option<&str>) -> Self {
        if only.is_none() && except.is_none() && read_only.is_none() {
            return Deployment::Open;
        }
        let read_only = match read_only.map(str::trim) {
            None | Some("" | "false" | "0") => false,
            Some("true" | "1") => true,
            Some(other) => return Deployment::Broken(READ_ONLY_VAR, other.to_owned()),
        };
        let only = match only.map(|t| patterns(provider, t.split(','))).transpose() {
            Ok(only) => only,
            Err(entry) => return Deployment::Broken(ONLY_VAR, entry),
        };
        match patterns(provider, except.unwrap_or("").split(',')) {
            Ok(except) => Deployment::Narrowed(Rights { only, except, read_only }),
            Err(entry) => Deployment::Broken(EXCEPT_VAR, entry),
        }
    }

    /// The refusal of a call to `op`, if this layer refuses it.
    pub fn refusal(&self, provider: &'static Provider, op: &'static Operation) -> Option<CallError> {
        match self {
            Deployment::Open => None,
            Deployment::Narrowed(rights) if rights.allows(op) => None,
            Deployment::Narrowed(_) => Some(CallError::NotAllowed {
                capability: provider.capability,
                call: op.call,
                layer: "the deployment",
                why: String::from("(its CAPA_ONLY, CAPA_EXCEPT and CAPA_READ_ONLY vars)"),
            }),
            Deployment::Broken(var, entry) => Some(CallError::NotAllowed {
                capability: provider.capability,
                call: op.call,
                layer: "the deployment",
                why: format!("(its {var} names `{entry}`, which is no class ({}) and no operation: every call is refused until the var is fixed)", provider.classes.join(", ")),
            }),
        }
    }
}

/// A list's entries as patterns (blank ones skipped), or the first entry that names nothing.
fn patterns<'a>(provider: &Provider, entries: impl IntoIterator<Item = &'a str>) -> Result<Vec<Pattern>, String> {
    entries.into_iter().map(str::trim).filter(|e| !e.is_empty()).map(|e| pattern(provider, e).ok_or_else(|| e.to_owned())).collect()
}

/// `entry` as a pattern of `provider`'s, if it names a class or at least one operation.
fn pattern(provider: &Provider, entry: &str) -> Option<Pattern> {
    if let Some(i) = provider.classes.iter().position(|c| *c == entry) {
        return u8::try_from(i).ok().filter(|i| *i < 8).map(|i| Pattern::Class(1 << i));
    }
    let p = match entry.strip_suffix(".*") {
        Some(prefix) => Pattern::Below(prefix.to_owned()),
        None => Pattern::Call(entry.to_owned()),
    };
    provider.operations.iter().any(|op| p.matches(op)).then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{AuthUse, Body, Method};

    const fn op(call: &'static str, method: Method, classes: u8) -> Operation {
        Operation { id: call, call, method, path: "/", server: 0, path_params: &[], multi: 0, params: &[], body: Body::None, auth: AuthUse::Required, scheme: 0, classes }
    }

    static OPS: [Operation; 5] = [
        op("customers.list", Method::Get, 0b0001),
        op("customers.del", Method::Delete, 0b0110),
        op("charges.create", Method::Post, 0b1010),
        op("charges.refunds.create", Method::Post, 0b1010),
        op("charges.retrieve", Method::Get, 0b0001),
    ];

    static PROVIDER: Provider = Provider {
        capability: "pay",
        schemes: &[],
        call_headers: &[],
        secret_call_headers: &[],
        static_headers: &[],
        bound_headers: &[],
        request_id_header: None,
        error_object: None,
        servers: &["https://api.example.com"],
        classes: &["read", "write", "destructive", "money"],
        operations: &OPS,
    };

    fn allowed(d: &Deployment) -> Vec<&'static str> {
        OPS.iter().filter(|o| d.refusal(&PROVIDER, o).is_none()).map(|o| o.call).collect()
    }

    #[test]
    fn only_except_and_read_only_intersect() {
        assert_eq!(allowed(&Deployment::read(&PROVIDER, None, None, None)).len(), 5);
        assert_eq!(allowed(&Deployment::read(&PROVIDER, Some("charges.*"), None, None)), ["charges.create", "charges.refunds.create", "charges.retrieve"]);
        assert_eq!(allowed(&Deployment::read(&PROVIDER, Some("charges.*"), Some("money"), None)), ["charges.retrieve"]);
        assert_eq!(allowed(&Deployment::read(&PROVIDER, None, Some("money, destructive"), None)), ["customers.list", "charges.retrieve"]);
        assert_eq!(allowed(&Deployment::read(&PROVIDER, Some("customers.del, charges.create"), None, Some("true"))), Vec::<&str>::new());
        assert_eq!(allowed(&Deployment::read(&PROVIDER, None, None, Some("true"))), ["customers.list", "charges.retrieve"]);
        assert_eq!(allowed(&Deployment::read(&PROVIDER, Some("write"), Some("charges.refunds.*"), None)), ["customers.del", "charges.create"]);
        // Empty vars narrow nothing.
        assert_eq!(allowed(&Deployment::read(&PROVIDER, None, Some(""), Some("false"))).len(), 5);
    }

    #[test]
    fn a_pattern_that_names_nothing_refuses_every_call_naming_it() {
        for (only, except, read_only, var, entry) in [
            (None, Some("mony"), None, EXCEPT_VAR, "mony"),
            (Some("customer.*"), None, None, ONLY_VAR, "customer.*"),
            (None, None, Some("yes"), READ_ONLY_VAR, "yes"),
            (Some("charges"), None, None, ONLY_VAR, "charges"),
        ] {
            let d = Deployment::read(&PROVIDER, only, except, read_only);
            assert!(allowed(&d).is_empty(), "{var}={entry}");
            let message = d.refusal(&PROVIDER, &OPS[0]).unwrap().to_string();
            assert!(message.contains(var) && message.contains(&format!("`{entry}`")), "{message}");
        }
    }
}
