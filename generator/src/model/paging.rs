//! Which operations page, and how: the conventions of the runtime's `src/pages.rs`, found in
//! the spec. docs/pages.md states these rules for callers; `methods.txt` marks every operation
//! they find.
//!
//! Only a GET pages. Its items are the answer itself when it is an array, else the first array
//! member among `data`, `items` and one named as the path's last segment. Then, first match wins:
//! - **the last item**: a `starting_after` query parameter and a `has_more` member (Stripe);
//! - **a cursor in the body**: a member naming the next cursor and the parameter taking it —
//!   `pagination.cursor` → `after` (Twitch), `next_page` → `page` (Stripe search), `next_cursor`
//!   → `cursor`, `response_metadata.next_cursor` → `cursor` (Slack), `nextPageToken` →
//!   `pageToken`, `next_page_token` → `page_token`;
//! - **the `Link` header**: a 2xx answer declaring a `Link` header (GitHub).
//!
//! The page's size is the first of `limit`, `per_page`, `first`, `page_size`, `pageSize`,
//! `max_results`, `maxResults` the operation takes, at most its schema's `maximum` (100 when the
//! spec says none).

use super::Param;
use crate::spec::Spec;
use anyhow::Result;
use serde_json::Value;

/// How one operation pages (the runtime's `table::Paging`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    /// Where the next page is.
    pub convention: Convention,
    /// The member holding the items; empty: the answer is the array.
    pub items: String,
    /// The page size parameter; empty: none.
    pub size: String,
    /// The most items a page may hold: the size parameter's `maximum`, else 100.
    pub max_size: u32,
}

/// Where the next page is (the runtime's `table::Convention`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Convention {
    /// `param` takes the last item's `key` while the answer's `more` is true.
    LastItem {
        /// The parameter (`starting_after`).
        param: String,
        /// The item's member (`id`).
        key: String,
        /// The answer's member saying more follow (`has_more`).
        more: String,
    },
    /// `param` takes the answer's member at `cursor` (a dotted path).
    BodyCursor {
        /// The member's path (`pagination.cursor`).
        cursor: String,
        /// The parameter (`after`).
        param: String,
    },
    /// The `Link` header's `rel="next"`.
    Link,
}

impl Convention {
    /// The convention's name in `methods.txt` and the docs.
    pub fn label(&self) -> String {
        match self {
            Convention::LastItem { param, .. } => format!("pages: last item → {param}"),
            Convention::BodyCursor { cursor, param } => format!("pages: {cursor} → {param}"),
            Convention::Link => "pages: Link".to_owned(),
        }
    }
}

const SIZES: &[&str] = &["limit", "per_page", "first", "page_size", "pageSize", "max_results", "maxResults"];
const CURSORS: &[(&str, &str)] = &[
    ("pagination.cursor", "after"),
    ("next_page", "page"),
    ("next_cursor", "cursor"),
    ("response_metadata.next_cursor", "cursor"),
    ("nextPageToken", "pageToken"),
    ("next_page_token", "page_token"),
];

/// How the `method` operation `op` at `path` pages, if it does.
pub(super) fn detect(spec: &Spec, op: &Value, method: &str, path: &str, params: &[Param]) -> Result<Option<Paging>> {
    if method != "GET" {
        return Ok(None);
    }
    let Some(responses) = op.get("responses").and_then(Value::as_object) else { return Ok(None) };
    let Some((_, ok)) = responses.iter().find(|(code, _)| code.starts_with('2')) else { return Ok(None) };
    let ok = spec.resolve(ok)?;
    let Some(schema) = ok.get("content").and_then(Value::as_object).and_then(|c| c.iter().find(|(k, _)| super::bodies::is_json(&super::bodies::essence(k)))).and_then(|(_, m)| m.get("schema")) else {
        return Ok(None);
    };
    let schema = spec.resolve(schema)?;
    let query = |name: &str| params.iter().find(|p| p.name == name && matches!(p.at, super::At::Query(_)));
    let props = match schema.get("properties") {
        Some(Value::Object(props)) => Some(props),
        _ => None,
    };
    let is_array = |v: &Value| -> Result<bool> { Ok(spec.resolve(v)?.get("type").and_then(Value::as_str) == Some("array")) };
    let items = if schema.get("type").and_then(Value::as_str) == Some("array") {
        Some(String::new())
    } else if let Some(props) = props {
        let last = path.rsplit('/').find(|s| !s.is_empty() && !s.contains('{')).unwrap_or("");
        let mut found = None;
        for name in ["data", "items", last] {
            if let Some(member) = props.get(name).filter(|_| !name.is_empty()) {
                if is_array(member)? {
                    found = Some(name.to_owned());
                    break;
                }
            }
        }
        found
    } else {
        None
    };
    let Some(items) = items else { return Ok(None) };
    let has = |path: &str| -> Result<bool> {
        let mut at = schema.clone();
        for key in path.split('.') {
            let Some(next) = at.get("properties").and_then(|p| p.get(key)) else { return Ok(false) };
            at = spec.resolve(next)?.clone();
        }
        Ok(true)
    };
    let convention = if query("starting_after").is_some() && has("has_more")? && !items.is_empty() {
        Some(Convention::LastItem { param: "starting_after".into(), key: "id".into(), more: "has_more".into() })
    } else {
        let mut found = None;
        for (cursor, param) in CURSORS {
            if query(param).is_some() && has(cursor)? {
                found = Some(Convention::BodyCursor { cursor: (*cursor).into(), param: (*param).into() });
                break;
            }
        }
        match found {
            Some(c) => Some(c),
            None => {
                let link = ok.get("headers").and_then(Value::as_object).is_some_and(|h| h.keys().any(|k| k.eq_ignore_ascii_case("link")));
                link.then_some(Convention::Link)
            }
        }
    };
    let Some(convention) = convention else { return Ok(None) };
    let size = SIZES.iter().find_map(|s| query(s)).map(|p| p.name.clone()).unwrap_or_default();
    let max_size = SIZES
        .iter()
        .find_map(|s| query(s))
        .and_then(|p| p.schema.get("maximum").and_then(Value::as_u64))
        .filter(|m| *m > 0)
        .map_or(100, |m| m.min(10_000) as u32);
    Ok(Some(Paging { convention, items, size, max_size }))
}
