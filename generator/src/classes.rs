//! Classes of operation: what rights name instead of operations (`except: ["money",
//! "destructive"]`), so a platform can narrow a capability without reading the spec.
//!
//! Three are built in, by a rule that needs no manifest:
//! - `read`: the safe methods (GET, HEAD); every other operation is `write`.
//! - `destructive`: a DELETE, or a write named for an act that ends, undoes, erases, gives away
//!   or refuses something ([`DESTRUCTIVE`]). The name read is the method's (`invoices.void`) and
//!   the spec's operationId (Twitch's `moderation.bans.update` is `ban-user`), split into words
//!   at camelCase, `-` and `_`: a write is destructive when either begins with one of the
//!   list's entries, word for word (`cancel` takes `cancelAction`, not `cancellation`;
//!   `markUncollectible` takes that act alone, not `markThreadAsRead`). A name can hide what an
//!   operation does (GitHub's `orgs.convertMemberToOutsideCollaborator` removes a member): the
//!   manifest then adds it, `[classes] destructive = [...]`. The list was drawn up against every
//!   provider's names here; its entries say what each act is. Not in it: acts that add or
//!   replace (`set…`, `replace…`, `merge`, `rename`), that restore or resume (`restore`,
//!   `unsuspend`… which are DELETEs in GitHub, and so destructive anyway), whose outcome may go
//!   either way (`review…`, which approves or denies), and the undoing of a money movement
//!   (`refund`, `reverse`), which is the manifest's `money`.
//!
//! A manifest declares other classes by pattern (`[classes] money = ["charges.create",
//! "refunds.*"]`): `resource.method`, or `resource.*` for everything below it. A pattern that
//! matches no operation is an error, so a typo cannot leave money movement unclassified. A class
//! is per operation, never per argument: an operation that can, with some arguments, do what a
//! class names is in it, even when most calls to it do not (`customers.update` is Stripe's
//! `money` because it can set the balance the next invoice collects). Each operation's classes
//! are a bit set in the table (bit `i`: [`Classes::names`]`[i]`).

use crate::names::Name;
use anyhow::{bail, Result};
use std::collections::BTreeMap;

/// The built-in classes, bits 0–2.
pub const BUILT_IN: [&str; 3] = ["read", "write", "destructive"];

/// The longest call a rights entry can name, in bytes: the runtime reads no longer entry
/// (`src/rights.rs`, `MAX_ENTRY_LEN`), so a longer call could be named only through its
/// resource or a class. A spec that names one so is refused here.
pub const MAX_CALL_LEN: usize = 256;

/// Names (their leading camelCase words) that make a write destructive, by what the act does.
pub const DESTRUCTIVE: &[&str] = &[
    // Ends or removes something: `subscriptionSchedules.release` ends the schedule,
    // `codespaces.stopForAuthenticatedUser` what was running, `billing.meters.deactivate` the
    // counting, `pullRequestStacks.unstack` the stack.
    "cancel", "forceCancel", "void", "close", "del", "delete", "remove", "bulkRemove", "destroy", "terminate", "expire", "purge",
    "archive", "end", "stop", "release", "unsubscribe", "unstack", "deactivate", "disable", "enableOrDisable", "suspend",
    // Erases or undoes it, or cuts its link: `identity.verificationSessions.redact`,
    // `apps.resetToken` (the token in use stops working), `paymentMethods.detach`,
    // `invoices.markUncollectible` (writes the debt off).
    "redact", "reset", "detach", "disconnect", "markUncollectible",
    // Gives it away: `repos.transfer`.
    "transfer",
    // Refuses or shuts out someone or something: `issuing.authorizations.decline`,
    // `pulls.dismissReview` (undoes an approval), `users.block`, Twitch's `ban-user`,
    // `issues.lock` (shuts the conversation to all but collaborators).
    "reject", "decline", "revoke", "dismiss", "block", "ban", "lock",
];

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

/// A name's words, lowercase: split at `-`, `_`, spaces and any other non-alphanumeric, and
/// before an uppercase letter that follows a lowercase one or a digit (`markUncollectible`:
/// mark, uncollectible; `ban-user`: ban, user; `reRunJob`: re, run, job).
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    for part in name.split(|c: char| !c.is_ascii_alphanumeric()).filter(|p| !p.is_empty()) {
        let mut word = String::new();
        let mut after_lower = false;
        for c in part.chars() {
            if c.is_ascii_uppercase() && after_lower {
                words.push(std::mem::take(&mut word));
            }
            after_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            word.push(c.to_ascii_lowercase());
        }
        words.push(word);
    }
    words
}

/// Whether `name` begins with one of [`DESTRUCTIVE`]'s entries, word for word.
pub fn destructive_name(name: &str) -> bool {
    let name = words(name);
    DESTRUCTIVE.iter().any(|entry| {
        let entry = words(entry);
        name.len() >= entry.len() && name.iter().zip(&entry).all(|(a, b)| a == b)
    })
}

/// One operation as the rule reads it: its HTTP method (uppercase) and the spec's operationId
/// (or `METHOD /path` when the spec gives none, which names nothing).
#[derive(Debug, Clone, Copy)]
pub struct Op<'a> {
    /// `GET`, `POST`, ….
    pub method: &'a str,
    /// `operationId`.
    pub id: &'a str,
}

/// The classes of each operation (`ops`, in the model's order, named by `names`).
pub fn assign(ops: &[Op<'_>], names: &[Name], declared: &BTreeMap<String, Vec<String>>) -> Result<Classes> {
    // `destructive` may be added to by pattern; the others are the manifest's own.
    let added = declared.get("destructive").map(Vec::as_slice).unwrap_or_default();
    let own: Vec<(&String, &Vec<String>)> = declared.iter().filter(|(class, _)| *class != "destructive").collect();
    if own.len() > 8 - BUILT_IN.len() {
        bail!("[classes] declares {} classes; at most {} fit beside read, write and destructive", own.len(), 8 - BUILT_IN.len());
    }
    let mut classes = Classes { names: BUILT_IN.iter().map(|s| (*s).to_owned()).collect(), of: Vec::with_capacity(names.len()) };
    for (class, _) in &own {
        if BUILT_IN.contains(&class.as_str()) || class.is_empty() || !class.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            bail!("[classes] `{class}`: a class is a lowercase word other than read and write (destructive may be added to)");
        }
        classes.names.push((*class).clone());
    }
    for (class, patterns) in declared {
        for pattern in patterns {
            if !names.iter().any(|n| matches(pattern, &n.call())) {
                bail!("[classes] {class}: `{pattern}` names no operation (a method is `resource.method`, as methods.txt lists them; `resource.*` takes all below)");
            }
        }
    }
    for (op, name) in ops.iter().zip(names) {
        let call = name.call();
        if call.len() > MAX_CALL_LEN {
            bail!("`{call}` is longer than {MAX_CALL_LEN} bytes, the most a rights entry holds: give it a shorter name ([names])");
        }
        let read = matches!(op.method, "GET" | "HEAD");
        let mut bits = if read { 1 } else { 2 };
        let method = call.rsplit('.').next().unwrap_or_default();
        // The operationId's last `/` segment (GitHub's `repos/delete`); a synthesized
        // `METHOD /path` is no name.
        let id = if op.id.contains(' ') { "" } else { op.id.rsplit('/').next().unwrap_or_default() };
        let named = !read && (destructive_name(method) || destructive_name(id));
        if op.method == "DELETE" || named || added.iter().any(|p| matches(p, &call)) {
            bits |= 4;
        }
        for (i, (_, patterns)) in own.iter().enumerate() {
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

    #[test]
    fn destructive_names_match_whole_leading_words() {
        for name in ["cancel", "cancelAction", "forceCancelWorkflowRun", "markUncollectible", "ban-user", "end-poll", "delete", "bulkRemove", "enableOrDisableSecurityProductOnAllOrgRepos", "redact", "unstack"] {
            assert!(destructive_name(name), "{name}");
        }
        // A longer word is another word; `mark`, `enable`, `force`, `bulk` alone are no act.
        for name in ["cancellation", "endpoints", "markThreadAsRead", "enableWorkflow", "forceX", "bulkAdd", "blocked", "locked", "create", "", "PostInvoicesInvoiceMarkUncollectible", "transferred", "resetting"] {
            assert!(!destructive_name(name), "{name}");
        }
        assert_eq!(words("reRunJobForWorkflowRun"), ["re", "run", "job", "for", "workflow", "run"]);
        assert_eq!(words("ban-user"), ["ban", "user"]);
        assert_eq!(words("GET /v1/x"), ["get", "v1", "x"]);
    }

    fn name(resource: &str, method: &str) -> Name {
        Name { resource: vec![resource.to_owned()], method: method.to_owned() }
    }

    #[test]
    fn the_rule_reads_method_name_and_operation_id_and_the_manifest_adds() {
        let names = [name("polls", "update"), name("items", "update"), name("items", "lock"), name("items", "lock"), name("members", "convert"), name("items", "remove")];
        let ops = [
            Op { method: "PATCH", id: "end-poll" },
            Op { method: "PATCH", id: "update-item" },
            Op { method: "PUT", id: "lock" },
            Op { method: "GET", id: "lock" },
            Op { method: "PUT", id: "convert" },
            // A synthesized id is no name: the method's name still counts.
            Op { method: "POST", id: "POST /items/remove" },
        ];
        let declared = BTreeMap::from([("destructive".to_owned(), vec!["members.convert".to_owned()]), ("money".to_owned(), vec!["items.*".to_owned()])]);
        let classes = assign(&ops, &names, &declared).unwrap();
        assert_eq!(classes.names, ["read", "write", "destructive", "money"]);
        let got: Vec<Vec<&str>> = classes.of.iter().map(|b| named(&classes, *b)).collect();
        assert_eq!(
            got,
            [
                &["write", "destructive"][..],
                &["write", "money"],
                &["write", "destructive", "money"],
                // A read is never destructive by its name.
                &["read", "money"],
                &["write", "destructive"],
                &["write", "destructive", "money"],
            ]
        );
        for bad in [("read", "items.*"), ("destructive", "nothing.*"), ("Money", "items.*")] {
            let declared = BTreeMap::from([(bad.0.to_owned(), vec![bad.1.to_owned()])]);
            assert!(assign(&ops, &names, &declared).is_err(), "{bad:?}");
        }
        let long = [Name { resource: vec!["x".repeat(MAX_CALL_LEN)], method: "get".to_owned() }];
        assert!(assign(&[Op { method: "GET", id: "g" }], &long, &BTreeMap::new()).is_err());
    }
}
