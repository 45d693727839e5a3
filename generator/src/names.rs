//! Stage 3, names: `resource.method` for every operation, from its path and verb.
//!
//! The rule (documented in the README, "Names"):
//!
//! 1. Drop the version prefix: the manifest's `version_prefix` if it sets one
//!    (`"/rest/api/3"`), else the longest run of literal segments every path starts with that
//!    ends in a version segment (`v1`, `v2beta1`, `3`, `1.0`, a date `2010-04-01`), else, per
//!    path, a leading version segment; never the last segment. Literal segments, camelCased,
//!    are resources, nested under their parents; parameters (segments holding a `{`) select an
//!    item and add no name. A literal's format extension is dropped (`Accounts.json` →
//!    `accounts`), its dotted parts are nested names (`/admin.apps` → `admin.apps`), and a
//!    leading digit gets an `_` (`/v2/1-clicks` → `_1Clicks`).
//! 2. A path ending in a parameter is an **item**: GET `retrieve`, POST/PUT/PATCH `update`,
//!    DELETE `del`.
//! 3. A path ending in a literal is a **collection** when some path continues it with a parameter
//!    (`/customers` → `/customers/{customer}`) or its GET returns a list: GET `list`, POST
//!    `create`, PUT/PATCH `update`, DELETE `del`.
//! 4. Otherwise the last literal is a **singleton** (GET `retrieve`, POST/PUT/PATCH `update`,
//!    DELETE `del`) when other paths continue it (`/invoices/upcoming` + `/invoices/upcoming/lines`),
//!    or when it hangs off the root or a bare namespace (`/v1/balance`, `/v1/tax/settings`) —
//!    except that POST alone there creates (`/v1/account_links` → `accountLinks.create`).
//! 5. Otherwise it is an **action** of its parent (`/payment_intents/{intent}/confirm` →
//!    `paymentIntents.confirm`, `/customers/search` → `customers.search`) — unless the parent is
//!    an item and the verb reads or deletes (GET, DELETE) or the path also has a GET: then it is
//!    a singleton below the item (`/customers/{customer}/discount` DELETE →
//!    `customers.discount.del`), and a listing GET makes it a collection (`invoices.lines.list`).
//!    A last literal with dots is itself `resource.method` (Slack's `/chat.postMessage` →
//!    `chat.postMessage`, `/conversations.list` → `conversations.list`).
//! 6. Manifest `[names]` entries (`operationId = "resource.method"`) win over the rule.
//!
//! With `naming = "operationId"` in the manifest, operationIds of the form `tag/verb-noun` (what
//! Octokit users know: `issues/get`, `repos/get-content`) name instead: each `/`-separated part
//! but the last a resource, the last the method, camelCased (`issues.get`, `repos.getContent`).
//! An operationId without a `/` falls back to the path rule.
//! 7. Collisions: operations that end up with one name all take their operationId, camelCased,
//!    as the method (`pet.updatePet`); a name that is both a method and a sub-resource of the same
//!    resource keeps the resource and the method takes the operationId too. Names JS or RPC
//!    reserve on every object (`then`, `constructor`, `toString`, ...) get a trailing `_`; so do
//!    top-level resources named like the entrypoint's own members (`fetch`, `env`, `email`,
//!    `withAuth`, ...), which nested names cannot clash with (`users.email` stays `email`).

use crate::manifest::Naming;
use crate::model::Operation;
use anyhow::{bail, Result};
use heck::ToLowerCamelCase;
use std::collections::{BTreeMap, BTreeSet};

/// Names no resource or method may have, at any depth: JS and RPC plumbing (`then` would make a
/// stub thenable; `dup` is reserved by workerd's stubs).
const RESERVED: &[&str] = &["then", "constructor", "prototype", "__proto__", "toString", "toLocaleString", "valueOf", "toJSON", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "dup"];

/// Names a top-level resource may not have: the entrypoint's own members (its handlers, and the
/// session methods `withAuth` and `attenuate`).
const ENTRYPOINT_RESERVED: &[&str] = &[
    "fetch", "connect", "env", "ctx", "queue", "scheduled", "tail", "trace", "email", "alarm", "webSocketMessage", "webSocketClose", "webSocketError",
    "withAuth", "attenuate",
];

/// One operation's public name: resource path and method.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Name {
    /// Resource path, e.g. `["customers", "balanceTransactions"]`.
    pub resource: Vec<String>,
    /// Method, e.g. `list`.
    pub method: String,
}

impl Name {
    /// `resource.method`.
    pub fn call(&self) -> String {
        format!("{}.{}", self.resource.join("."), self.method)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Seg<'a> {
    Lit(&'a str),
    Param,
}

fn raw_segments(path: &str) -> Vec<Seg<'_>> {
    path.split('/').filter(|s| !s.is_empty()).map(|s| if s.contains('{') { Seg::Param } else { Seg::Lit(s) }).collect()
}

/// A path's segments less the version prefix (`prefix` literals, or a leading version segment
/// when `prefix` is `None`), keeping at least one segment.
fn segments<'a>(path: &'a str, prefix: Option<&[&str]>) -> Vec<Seg<'a>> {
    let mut segs = raw_segments(path);
    let drop = match prefix {
        Some(prefix) => {
            let matches = prefix.len() <= segs.len() && prefix.iter().zip(&segs).all(|(p, s)| *s == Seg::Lit(p));
            if matches { prefix.len() } else { 0 }
        }
        None => usize::from(matches!(segs.first(), Some(Seg::Lit(first)) if is_version(first))),
    };
    if drop < segs.len() {
        segs.drain(..drop);
    }
    segs
}

/// `v1`, `v2beta1`, `v1.1`, `3`, `1.0`, `2010-04-01`, `20240410`.
pub fn is_version(segment: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let numeric = |s: &str| s.split('.').all(digits);
    let date = segment.len() == 10 && segment.split('-').map(str::len).eq([4, 2, 2]) && segment.split('-').all(digits);
    let tagged = segment.strip_prefix('v').is_some_and(|rest| {
        let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let (number, tail) = rest.split_at(end);
        numeric(number) && (tail.is_empty() || ["alpha", "beta", "rc", "preview"].iter().any(|t| tail.strip_prefix(t).is_some_and(|d| d.is_empty() || digits(d))))
    });
    date || numeric(segment) || tagged
}

/// The version prefix every path shares (see the module docs), as literals.
fn shared_version_prefix(ops: &[Operation]) -> Option<Vec<&str>> {
    let mut common: Option<Vec<&str>> = None;
    for op in ops {
        let lits: Vec<&str> = raw_segments(&op.path).into_iter().map_while(|s| if let Seg::Lit(l) = s { Some(l) } else { None }).collect();
        common = Some(match common {
            None => lits,
            Some(c) => c.into_iter().zip(lits).take_while(|(a, b)| a == b).map(|(a, _)| a).collect(),
        });
    }
    let mut common = common?;
    while common.last().is_some_and(|last| !is_version(last)) {
        common.pop();
    }
    (!common.is_empty()).then_some(common)
}

/// A literal segment's name parts: its format extension dropped, split at dots, camelCased.
fn literal_parts(literal: &str) -> Vec<String> {
    const FORMATS: &[&str] = &[".json", ".xml", ".csv", ".txt", ".html", ".yaml", ".yml", ".pdf"];
    let bare = FORMATS.iter().find_map(|f| literal.strip_suffix(f)).filter(|b| !b.is_empty()).unwrap_or(literal);
    bare.split('.').map(camel).filter(|p| !p.is_empty()).collect()
}

fn key(segs: &[Seg<'_>]) -> String {
    segs.iter().map(|s| match s { Seg::Lit(l) => *l, Seg::Param => "*" }).collect::<Vec<_>>().join("/")
}

/// Names every operation; the result is parallel to `ops`.
///
/// `version_prefix`: the manifest's (`/rest/api/3`); `None`, the rule's.
pub fn assign(ops: &[Operation], overrides: &BTreeMap<String, String>, naming: Naming, version_prefix: Option<&str>) -> Result<Vec<Name>> {
    let prefix: Option<Vec<&str>> = match version_prefix {
        Some(p) => Some(p.split('/').filter(|s| !s.is_empty()).collect()),
        None => shared_version_prefix(ops),
    };
    let prefix = prefix.as_deref();
    let segments = |path| segments(path, prefix);
    // Path shapes with parameters wildcarded, and facts about each.
    let mut shapes: BTreeSet<String> = BTreeSet::new();
    let mut list_gets: BTreeSet<String> = BTreeSet::new();
    let mut methods_at: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for op in ops {
        let k = key(&segments(&op.path));
        if op.returns_list {
            list_gets.insert(k.clone());
        }
        methods_at.entry(k.clone()).or_default().insert(op.method.as_str());
        shapes.insert(k);
    }
    let continued = |k: &str, by_param: bool| {
        let prefix = if k.is_empty() { String::new() } else { format!("{k}/") };
        shapes.range(prefix.clone()..).take_while(|s| s.starts_with(&prefix)).any(|s| {
            let next = s[prefix.len()..].split('/').next().unwrap_or("");
            if by_param { next == "*" } else { next != "*" && !next.is_empty() }
        })
    };
    let collection = |k: &str| continued(k, true) || list_gets.contains(k);

    let mut names = Vec::with_capacity(ops.len());
    for op in ops {
        if let Some(name) = overrides.get(&op.id) {
            let mut parts: Vec<String> = name.split('.').map(str::to_owned).collect();
            if parts.len() < 2 || parts.iter().any(|p| !is_ident(p)) {
                bail!("[names] {} = {name:?}: expected resource.method with identifier parts", op.id);
            }
            let method = parts.pop().unwrap_or_default();
            names.push(Name { resource: parts, method });
            continue;
        }
        if naming == Naming::OperationId && op.id.contains('/') {
            let mut parts: Vec<String> = op.id.split('/').map(camel).collect();
            let method = parts.pop().unwrap_or_default();
            if parts.iter().chain([&method]).all(|p| is_ident(p)) {
                names.push(Name { resource: parts, method });
                continue;
            }
        }
        let segs = segments(&op.path);
        let k = key(&segs);
        let literals = |segs: &[Seg<'_>]| -> Vec<String> {
            segs.iter().flat_map(|s| if let Seg::Lit(l) = s { literal_parts(l) } else { Vec::new() }).collect()
        };
        let verb = op.method.as_str();
        let item_verb = || match verb {
            "GET" => "retrieve",
            "DELETE" => "del",
            "HEAD" => "head",
            "OPTIONS" => "options",
            _ => "update",
        };
        let dotted = match segs.last() {
            Some(Seg::Lit(last)) => Some(literal_parts(last)).filter(|parts| parts.len() > 1),
            _ => None,
        };
        let name = match segs.last() {
            None => Name { resource: vec!["api".into()], method: item_verb().into() },
            Some(Seg::Lit(_)) if dotted.is_some() => {
                let mut parts = dotted.unwrap_or_default();
                let method = parts.pop().unwrap_or_default();
                Name { resource: [literals(&segs[..segs.len() - 1]), parts].concat(), method }
            }
            Some(Seg::Param) => Name { resource: literals(&segs), method: item_verb().into() },
            Some(Seg::Lit(last)) => {
                let parent = &segs[..segs.len() - 1];
                let parent_key = key(parent);
                let parent_is_item = matches!(parent.last(), Some(Seg::Param));
                let parent_is_collection = !parent.is_empty() && !parent_is_item && collection(&parent_key);
                let verbs = methods_at.get(&k).cloned().unwrap_or_default();
                // Below a collection, a listing literal with no items of its own is an action of
                // that collection (`customers.search`), not a collection itself.
                let listing_action = parent_is_collection && !continued(&k, true);
                if collection(&k) && !listing_action {
                    let method = match verb {
                        "GET" => "list",
                        "POST" => "create",
                        "DELETE" => "del",
                        "HEAD" => "head",
                        "OPTIONS" => "options",
                        _ => "update",
                    };
                    Name { resource: literals(&segs), method: method.into() }
                } else if continued(&k, false) || (!parent_is_item && !parent_is_collection && !parent.contains(&Seg::Param)) {
                    let post_only = verbs.len() == 1 && verb == "POST";
                    let method = if post_only && !continued(&k, false) { "create" } else { item_verb() };
                    Name { resource: literals(&segs), method: method.into() }
                } else if parent_is_item && (matches!(verb, "GET" | "DELETE") || verbs.contains("GET")) {
                    Name { resource: literals(&segs), method: item_verb().into() }
                } else {
                    Name { resource: literals(parent), method: literal_parts(last).concat() }
                }
            }
        };
        names.push(name);
    }

    for name in &mut names {
        if name.resource.is_empty() {
            name.resource.push("api".into());
        }
        for part in name.resource.iter_mut().chain(std::iter::once(&mut name.method)) {
            *part = identifier(part);
        }
        if ENTRYPOINT_RESERVED.contains(&name.resource[0].as_str()) {
            name.resource[0].push('_');
        }
        for part in name.resource.iter_mut().chain(std::iter::once(&mut name.method)) {
            if RESERVED.contains(&part.as_str()) {
                part.push('_');
            }
        }
    }
    resolve_collisions(ops, &mut names)?;
    Ok(names)
}

fn resolve_collisions(ops: &[Operation], names: &mut [Name]) -> Result<()> {
    let fallback = |op: &Operation| {
        let m = camel(&op.id.replace(['/', ' ', '{', '}', '-', '.'], "_"));
        if RESERVED.contains(&m.as_str()) { format!("{m}_") } else { m }
    };
    // Same full name.
    let mut by_call: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, n) in names.iter().enumerate() {
        by_call.entry(n.call()).or_default().push(i);
    }
    for group in by_call.values().filter(|g| g.len() > 1) {
        for &i in group {
            names[i].method = fallback(&ops[i]);
        }
    }
    // A method named like a sub-resource of its own resource.
    let resources: BTreeSet<Vec<String>> = names.iter().flat_map(|n| (1..=n.resource.len()).map(|l| n.resource[..l].to_vec())).collect();
    for i in 0..names.len() {
        let mut as_resource = names[i].resource.clone();
        as_resource.push(names[i].method.clone());
        if resources.contains(&as_resource) {
            names[i].method = fallback(&ops[i]);
        }
    }
    let mut seen = BTreeMap::new();
    for (i, n) in names.iter().enumerate() {
        if let Some(j) = seen.insert(n.call(), i) {
            bail!("{} and {} both end up as {}; name one in the manifest's [names]", ops[j].id, ops[i].id, n.call());
        }
    }
    Ok(())
}

/// `balance_transactions` → `balanceTransactions`; a leading digit gets an `_`.
pub fn camel(s: &str) -> String {
    let c = s.to_lower_camel_case();
    if c.starts_with(|ch: char| ch.is_ascii_digit()) { format!("_{c}") } else { c }
}

/// `s` made a plain identifier: other characters become `_`, a leading digit or nothing at all
/// gets one.
fn identifier(s: &str) -> String {
    if is_ident(s) {
        return s.to_owned();
    }
    let mut out: String = s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '$' { c } else { '_' }).collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '$') {
        out.insert(0, '_');
    }
    out
}

/// Whether `s` is a plain JS identifier.
pub fn is_ident(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AuthUse, Body, Operation};

    fn op(method: &str, path: &str, list: bool) -> Operation {
        Operation {
            id: format!("{method}{}", path.replace(['/', '{', '}'], "_")),
            method: method.into(),
            path: path.into(),
            server: 0,
            path_params: vec![],
            multi: 0,
            params: vec![],
            body: Body::None,
            optional_body: false,
            credentials: vec![],
            auth: AuthUse::Required,
            scheme: 0,
            returns_list: list,
            paging: None,
            results: vec![crate::model::Answer::None],
            error: None,
            summary: None,
            deprecated: false,
        }
    }

    fn names(ops: &[Operation]) -> Vec<String> {
        assign(ops, &BTreeMap::new(), Naming::Path, None).unwrap().iter().map(Name::call).collect()
    }

    #[test]
    fn the_documented_rule_on_stripe_shapes() {
        let ops = [
            op("GET", "/v1/customers", true),
            op("POST", "/v1/customers", false),
            op("GET", "/v1/customers/{customer}", false),
            op("POST", "/v1/customers/{customer}", false),
            op("DELETE", "/v1/customers/{customer}", false),
            op("GET", "/v1/customers/search", true),
            op("GET", "/v1/customers/{customer}/balance_transactions", true),
            op("GET", "/v1/customers/{customer}/balance_transactions/{transaction}", false),
            op("DELETE", "/v1/customers/{customer}/discount", false),
            op("GET", "/v1/customers/{customer}/cash_balance", false),
            op("POST", "/v1/customers/{customer}/cash_balance", false),
            op("POST", "/v1/payment_intents/{intent}/confirm", false),
            op("GET", "/v1/invoices/{invoice}/lines", true),
            op("GET", "/v1/invoices/upcoming", false),
            op("GET", "/v1/invoices/upcoming/lines", true),
            op("GET", "/v1/balance", false),
            op("POST", "/v1/account_links", false),
            op("GET", "/v1/tax/settings", false),
            op("POST", "/v1/tax/settings", false),
        ];
        assert_eq!(
            names(&ops),
            [
                "customers.list",
                "customers.create",
                "customers.retrieve",
                "customers.update",
                "customers.del",
                "customers.search",
                "customers.balanceTransactions.list",
                "customers.balanceTransactions.retrieve",
                "customers.discount.del",
                "customers.cashBalance.retrieve",
                "customers.cashBalance.update",
                "paymentIntents.confirm",
                "invoices.lines.list",
                "invoices.upcoming.retrieve",
                "invoices.upcoming.lines.list",
                "balance.retrieve",
                "accountLinks.create",
                "tax.settings.retrieve",
                "tax.settings.update",
            ]
        );
    }

    #[test]
    fn collisions_take_the_operation_id_and_reserved_names_an_underscore() {
        let ops = [op("PUT", "/pet", false), op("POST", "/pet/{petId}", false), op("GET", "/pet/{petId}", false), op("GET", "/then", false)];
        assert_eq!(names(&ops), ["pet.putPet", "pet.postPetPetId", "pet.retrieve", "then_.retrieve"]);
    }

    #[test]
    fn manifest_overrides_win_and_are_checked() {
        let ops = [op("GET", "/v1/balance", false)];
        let mut overrides = BTreeMap::new();
        overrides.insert(ops[0].id.clone(), "accountBalance.get".to_owned());
        assert_eq!(assign(&ops, &overrides, Naming::Path, None).unwrap()[0].call(), "accountBalance.get");
        overrides.insert(ops[0].id.clone(), "nodot".to_owned());
        assert!(assign(&ops, &overrides, Naming::Path, None).is_err());
    }

    #[test]
    fn operation_id_naming_reads_octokit_ids() {
        let mut ops = vec![op("GET", "/repos/{owner}/{repo}/issues/{issue_number}", false), op("GET", "/repos/{owner}/{repo}/contents/{path}", false), op("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/merge", false), op("GET", "/emojis", false)];
        for (o, id) in ops.iter_mut().zip(["issues/get", "repos/get-content", "pulls/merge", "GetEmojis"]) {
            o.id = id.into();
        }
        let named = assign(&ops, &BTreeMap::new(), Naming::OperationId, None).unwrap();
        assert_eq!(named.iter().map(Name::call).collect::<Vec<_>>(), ["issues.get", "repos.getContent", "pulls.merge", "emojis.retrieve"]);
    }

    #[test]
    fn version_prefixes_and_segments_that_are_not_identifiers() {
        // Twilio: a date prefix every path shares, `.json` formats, parameters inside segments.
        let twilio = [op("GET", "/2010-04-01/Accounts.json", true), op("GET", "/2010-04-01/Accounts/{Sid}.json", false), op("POST", "/2010-04-01/Accounts/{AccountSid}/Messages.json", false), op("POST", "/2010-04-01/Accounts/{AccountSid}/Calls.json", false), op("GET", "/2010-04-01/Accounts/{AccountSid}/Calls.json", true)];
        assert_eq!(names(&twilio), ["accounts.list", "accounts.retrieve", "accounts.messages", "accounts.calls.create", "accounts.calls.list"]);
        // Jira: a prefix ending in a bare number; DigitalOcean: `/v2` and a leading digit.
        let jira = [op("GET", "/rest/api/3/issue/{issueIdOrKey}", false), op("GET", "/rest/api/3/myself", false)];
        assert_eq!(names(&jira), ["issue.retrieve", "myself.retrieve"]);
        let digitalocean = [op("GET", "/v2/1-clicks", true), op("GET", "/v2/account", false)];
        assert_eq!(names(&digitalocean), ["_1Clicks.list", "account.retrieve"]);
        // Slack: a dotted last segment is resource.method.
        let slack = [op("POST", "/chat.postMessage", false), op("GET", "/conversations.list", false), op("POST", "/admin.apps.approve", false)];
        assert_eq!(names(&slack), ["chat.postMessage", "conversations.list", "admin.apps.approve"]);
        // Mixed versions: each path's own leading version goes; the manifest can name the prefix.
        let mixed = [op("GET", "/v1/events", true), op("GET", "/v2beta1/core/events", true), op("GET", "/api/2/things", true)];
        assert_eq!(names(&mixed), ["events.list", "core.events.list", "api._2.things.list"]);
        let named = assign(&mixed[2..], &BTreeMap::new(), Naming::Path, Some("/api/2")).unwrap();
        assert_eq!(named[0].call(), "things.list");
        // Never the last segment, and odd characters become identifiers.
        assert_eq!(names(&[op("GET", "/v1", false)]), ["v1.retrieve"]);
        assert_eq!(names(&[op("GET", "/users/@me", false), op("GET", "/~", false)]), ["users.me.retrieve", "api.retrieve"]);
        for v in ["v1", "v2", "v10", "v1.1", "v2beta1", "v1alpha", "3", "1.0", "2010-04-01"] {
            assert!(is_version(v), "{v}");
        }
        for v in ["v", "vault", "version", "1-clicks", "2010-4-1", "api", "v1x"] {
            assert!(!is_version(v), "{v}");
        }
    }

    #[test]
    fn entrypoint_names_are_reserved_at_the_top_only() {
        let ops = [op("GET", "/email", false), op("GET", "/users/{id}/email", false), op("GET", "/with_auth", false), op("GET", "/users/{id}/then", false)];
        assert_eq!(names(&ops), ["email_.retrieve", "users.email.retrieve", "withAuth_.retrieve", "users.then_.retrieve"]);
    }
}
