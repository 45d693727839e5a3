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
//!
//! Entries are trimmed of ASCII spaces (U+0020) and nothing else: `"read\u{a0}"` (a no-break
//! space) or `"money\t"` is no class, so it names nothing and the layer refuses as for any
//! unknown name. Trimming Unicode whitespace would make a name that looks like no class act as
//! one; a stray character must fail loudly instead.
//!
//! Lists are bounded: at most [`MAX_ENTRIES`] entries each, of at most [`MAX_ENTRY_LEN`] bytes.
//! Each entry is resolved against every operation, so an unbounded list is CPU a caller spends
//! in the capability (a million entries cost 1.6 s per `withAuth`); the bounds are checked
//! before any entry is resolved, and a list past them is a layer that refuses (the vars and
//! props: every call; a session: `invalid_argument`), never one read in part. 256 entries is
//! more than any rights set needs (a class or `resource.*` stands for many operations); 256
//! bytes is nearly four times the longest call of any provider here, 67 (the generator refuses
//! a longer one, `generator/src/classes.rs`).

use crate::error::CallError;
use crate::table::{Operation, Provider};

/// Wrangler vars of the deployment's layer.
pub const ONLY_VAR: &str = "CAPA_ONLY";
pub const EXCEPT_VAR: &str = "CAPA_EXCEPT";
pub const READ_ONLY_VAR: &str = "CAPA_READ_ONLY";

/// Bit of the `read` class in [`Operation::classes`].
const READ: u8 = 1;

/// The most entries a rights list (`only`, `except`, a var) holds.
pub const MAX_ENTRIES: usize = 256;

/// The longest entry a rights list holds, in bytes.
pub const MAX_ENTRY_LEN: usize = 256;

/// Why a list is no list of patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// An entry (trimmed) that names no class and no operation.
    Names(String),
    /// More than [`MAX_ENTRIES`] entries.
    TooMany,
    /// An entry longer than [`MAX_ENTRY_LEN`] bytes (its length).
    TooLong(usize),
}

impl Fault {
    /// What the list does wrong, after its subject: "its CAPA_EXCEPT" (`plural` false: "names",
    /// "holds") or "withAuth's rights" (true: "name", "hold"). `quote` shows an entry, as each
    /// layer's author can read it.
    pub fn describe(&self, provider: &Provider, plural: bool, quote: impl Fn(&str) -> String) -> String {
        self.describe_in(provider, plural, None, quote)
    }

    /// [`Fault::describe`], naming the list (`in `except``) where the subject holds several.
    pub fn describe_in(&self, provider: &Provider, plural: bool, list: Option<&str>, quote: impl Fn(&str) -> String) -> String {
        let s = if plural { "" } else { "s" };
        let within = list.map(|l| format!(" in `{l}`")).unwrap_or_default();
        match self {
            Fault::Names(entry) => format!("name{s} {}, which is no class ({}) and no operation", quote(entry), provider.classes.join(", ")),
            Fault::TooMany => format!("hold{s} more than {MAX_ENTRIES} entries{within} (a rights list holds at most {MAX_ENTRIES})"),
            Fault::TooLong(len) => format!("hold{s} an entry of {len} bytes{within} (a rights entry holds at most {MAX_ENTRY_LEN})"),
        }
    }
}

/// A list's entries, bounded: at most [`MAX_ENTRIES`] of them (blank ones count), each at most
/// [`MAX_ENTRY_LEN`] bytes. Stops reading at the first entry past the bound, so a list of a
/// million entries costs what 257 do here.
pub fn bounded<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Vec<&'a str>, Fault> {
    let mut list = Vec::new();
    for entry in entries {
        if list.len() == MAX_ENTRIES {
            return Err(Fault::TooMany);
        }
        if entry.len() > MAX_ENTRY_LEN {
            return Err(Fault::TooLong(entry.len()));
        }
        list.push(entry);
    }
    Ok(list)
}

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
    /// From a layer's lists, bounded ([`bounded`]) and each entry resolved against
    /// `provider`'s classes and operations; `Err`: the first fault (the layer then refuses
    /// everything).
    pub fn from_lists<'a>(
        provider: &Provider,
        only: Option<impl IntoIterator<Item = &'a str>>,
        except: impl IntoIterator<Item = &'a str>,
        read_only: bool,
    ) -> Result<Self, Fault> {
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
    /// A var is no list of patterns, or no boolean (var, why: [`Fault::describe`]'s words).
    Broken(&'static str, String),
}

impl Deployment {
    /// From the vars' values.
    pub fn read(provider: &Provider, only: Option<&str>, except: Option<&str>, read_only: Option<&str>) -> Self {
        if only.is_none() && except.is_none() && read_only.is_none() {
            return Deployment::Open;
        }
        let broken = |var, fault: Fault| Deployment::Broken(var, fault.describe(provider, false, |e| format!("`{}`", shown(e))));
        let read_only = match read_only.map(|v| v.trim_matches(' ')) {
            None | Some("" | "false" | "0") => false,
            Some("true" | "1") => true,
            Some(other) if other.len() > MAX_ENTRY_LEN => return broken(READ_ONLY_VAR, Fault::TooLong(other.len())),
            Some(other) => return broken(READ_ONLY_VAR, Fault::Names(other.to_owned())),
        };
        let only = match only.map(|t| patterns(provider, t.split(','))).transpose() {
            Ok(only) => only,
            Err(fault) => return broken(ONLY_VAR, fault),
        };
        match patterns(provider, except.unwrap_or("").split(',')) {
            Ok(except) => Deployment::Narrowed(Rights { only, except, read_only }),
            Err(fault) => broken(EXCEPT_VAR, fault),
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
            Deployment::Broken(var, why) => Some(CallError::NotAllowed {
                capability: provider.capability,
                call: op.call,
                layer: "the deployment",
                why: format!("(its {var} {why}: every call is refused until the var is fixed)"),
            }),
        }
    }
}

/// A list's entries as patterns: bounded first, then each trimmed of ASCII spaces alone (blank
/// ones skipped) and resolved; or the first fault.
fn patterns<'a>(provider: &Provider, entries: impl IntoIterator<Item = &'a str>) -> Result<Vec<Pattern>, Fault> {
    bounded(entries)?
        .into_iter()
        .map(|e| e.trim_matches(' '))
        .filter(|e| !e.is_empty())
        .map(|e| pattern(provider, e).ok_or_else(|| Fault::Names(e.to_owned())))
        .collect()
}

/// An entry as a message shows it: printable ASCII as it is, anything else escaped
/// (`read\u{a0}`), so a character that looks like a space is seen for what it is.
pub fn shown(entry: &str) -> String {
    entry.chars().map(|c| if c == ' ' || c.is_ascii_graphic() { c.to_string() } else { c.escape_unicode().to_string() }).collect()
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
        upstream: crate::table::Upstream::DEFAULT,
        operations: &OPS,
        paging: &[],
        optional_bodies: &[],
        credential_params: &[],
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

    #[test]
    fn entries_are_trimmed_of_ascii_spaces_alone() {
        assert_eq!(allowed(&Deployment::read(&PROVIDER, Some("  read  ,   charges.create "), None, Some(" true "))), ["customers.list", "charges.retrieve"]);
        // A no-break space, a tab, a newline, an ideographic space: part of the entry, which then
        // names nothing, and the message shows it.
        for (except, shown) in [("read\u{a0}", "read\\u{a0}"), ("\tmoney", "\\u{9}money"), ("money\n", "money\\u{a}"), ("\u{3000}read", "\\u{3000}read")] {
            let d = Deployment::read(&PROVIDER, None, Some(except), None);
            assert!(allowed(&d).is_empty(), "{except:?}");
            let message = d.refusal(&PROVIDER, &OPS[0]).unwrap().to_string();
            assert!(message.contains(&format!("names `{shown}`, which is no class")), "{message}");
        }
        assert!(allowed(&Deployment::read(&PROVIDER, None, None, Some("true\u{a0}"))).is_empty());
    }

    #[test]
    fn lists_past_the_bounds_refuse_every_call_naming_the_bound() {
        let at_most = vec!["charges.*"; MAX_ENTRIES].join(",");
        assert_eq!(allowed(&Deployment::read(&PROVIDER, Some(&at_most), None, None)).len(), 3);
        // Blank entries count: the bound is on what is read, not on what it names.
        for (only, except, var, says) in [
            (Some(format!("{at_most},charges.*")), None, ONLY_VAR, "holds more than 256 entries (a rights list holds at most 256)"),
            (None, Some(",".repeat(MAX_ENTRIES)), EXCEPT_VAR, "holds more than 256 entries"),
            (None, Some("x".repeat(MAX_ENTRY_LEN + 1)), EXCEPT_VAR, "holds an entry of 257 bytes (a rights entry holds at most 256)"),
        ] {
            let d = Deployment::read(&PROVIDER, only.as_deref(), except.as_deref(), None);
            assert!(allowed(&d).is_empty(), "{var}");
            let message = d.refusal(&PROVIDER, &OPS[0]).unwrap().to_string();
            assert!(message.contains(&format!("its {var} {says}")), "{message}");
        }
        assert_eq!(bounded(["a"; MAX_ENTRIES]).map(|l| l.len()), Ok(MAX_ENTRIES));
        assert_eq!(bounded(std::iter::repeat_n("a", 1_000_000)), Err(Fault::TooMany));
        assert_eq!(bounded([&*"a".repeat(MAX_ENTRY_LEN)]).map(|l| l.len()), Ok(1));
    }

    #[test]
    fn a_list_of_a_million_entries_is_refused_before_any_is_resolved() {
        // Each of these, resolved, scans the table; a million of them cost seconds. Bounded,
        // resolution never begins: the refusal takes what splitting 257 entries takes.
        let million = vec!["charges.retrieve"; 1_000_000].join(",");
        let started = std::time::Instant::now();
        let d = Deployment::read(&PROVIDER, Some(&million), None, None);
        assert!(matches!(&d, Deployment::Broken(ONLY_VAR, why) if why.contains("more than 256")), "{d:?}");
        assert!(started.elapsed() < std::time::Duration::from_millis(50), "{:?}", started.elapsed());
    }
}
