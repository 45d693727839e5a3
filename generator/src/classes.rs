//! Classes of operation: what rights name instead of operations (`except: ["money",
//! "destructive"]`), so a platform can narrow a capability without reading the spec.
//!
//! Three are built in, by a rule that needs no manifest:
//! - `read`: the safe methods (GET, HEAD); every other operation is `write`.
//! - `destructive`: a DELETE, or a write whose method name begins with an action that ends,
//!   undoes or refuses something ([`DESTRUCTIVE`]: `paymentIntents.cancel`, `invoices.void`,
//!   `disputes.close`, `accounts.reject`, `terminal.readers.cancelAction`).
//!
//! A manifest declares the others by pattern (`[classes] money = ["charges.create",
//! "refunds.*"]`): `resource.method`, or `resource.*` for everything below it. A pattern that
//! matches no operation is an error, so a typo cannot leave money movement unclassified. Each
//! operation's classes are a bit set in the table (bit `i`: [`Classes::names`]`[i]`).

use crate::names::Name;
use anyhow::{bail, Result};
use std::collections::BTreeMap;

/// The built-in classes, bits 0–2.
pub const BUILT_IN: [&str; 3] = ["read", "write", "destructive"];

/// Method names (their first camelCase word) that make a write destructive.
pub const DESTRUCTIVE: [&str; 13] = ["cancel", "void", "close", "reject", "del", "delete", "remove", "destroy", "revoke", "terminate", "expire", "purge", "archive"];

/// The classes of a provider's operations.
#[derive(Debug, Default)]
pub struct Classes {
    /// Bit `i` of an operation's set names `names[i]`: the built-in ones, then the manifest's.
    pub names: Vec<String>,
    /// Per operation, in the model's order.
    pub of: Vec<u8>,
}

/// Whether `pattern` (`a.b`, or `a.*` for anything below `a`) names `call`.
pub fn matches(pattern: &str, call: &str) -> bool {
    match pattern.strip_suffix(".*") {
        Some(prefix) => call.len() > prefix.len() && call.starts_with(prefix) && call.as_bytes()[prefix.len()] == b'.',
        None => pattern == call,
    }
}

/// The classes of each operation (`methods`: each one's HTTP method, in the model's order).
pub fn assign(methods: &[&str], names: &[Name], declared: &BTreeMap<String, Vec<String>>) -> Result<Classes> {
    if declared.len() > 8 - BUILT_IN.len() {
        bail!("[classes] declares {} classes; at most {} fit beside read, write and destructive", declared.len(), 8 - BUILT_IN.len());
    }
    let mut classes = Classes { names: BUILT_IN.iter().map(|s| (*s).to_owned()).collect(), of: Vec::with_capacity(names.len()) };
    for (class, patterns) in declared {
        if BUILT_IN.contains(&class.as_str()) || class.is_empty() || !class.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') || class.contains('.') {
            bail!("[classes] `{class}`: a class is a lowercase word other than read, write and destructive");
        }
        for pattern in patterns {
            if !names.iter().any(|n| matches(pattern, &n.call())) {
                bail!("[classes] {class}: `{pattern}` names no operation (a method is `resource.method`, as methods.txt lists them; `resource.*` takes all below)");
            }
        }
        classes.names.push(class.clone());
    }
    for (method, name) in methods.iter().zip(names) {
        let call = name.call();
        let read = matches!(*method, "GET" | "HEAD");
        let mut bits = if read { 1 } else { 2 };
        let verb = call.rsplit('.').next().unwrap_or_default();
        let first = verb.split(|c: char| c.is_ascii_uppercase()).next().unwrap_or_default();
        if *method == "DELETE" || (!read && DESTRUCTIVE.contains(&first)) {
            bits |= 4;
        }
        for (i, patterns) in declared.values().enumerate() {
            if patterns.iter().any(|p| matches(p, &call)) {
                bits |= 1 << (BUILT_IN.len() + i);
            }
        }
        classes.of.push(bits);
    }
    Ok(classes)
}

/// The names of the classes in `bits`.
pub fn named(classes: &Classes, bits: u8) -> Vec<&str> {
    classes.names.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, n)| n.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_name_a_method_or_everything_below_a_resource() {
        assert!(matches("charges.create", "charges.create"));
        assert!(!matches("charges.create", "charges.createX"));
        assert!(matches("refunds.*", "refunds.create"));
        assert!(matches("transfers.*", "transfers.reversals.create"));
        assert!(!matches("transfers.*", "transfersX.create"));
        assert!(!matches("transfers.*", "transfers"));
    }
}
