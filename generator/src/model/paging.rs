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
//! - **the `Link` header**: a 2xx answer declaring a `Link` header (GitHub);
//! - **page numbers**: an integer `page` query parameter beside a size parameter; the first page
//!   is the parameter's `default`, else its `minimum`, else 1;
//! - **offsets**: an integer `offset` query parameter beside a size parameter.
//!
//! Page numbers and offsets need the size parameter: their walk stops at a page shorter than the
//! size it asked for (or empty), or once a `total_count` or `total` member says every item came.
//!
//! The page's size is the first of `limit`, `per_page`, `first`, `page_size`, `pageSize`,
//! `max_results`, `maxResults` the operation takes, at most its schema's `maximum` (100 when the
//! spec says none).

use super::Param;
use crate::spec::Spec;
use anyhow::{Context, Result};
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
    /// `param` numbers the pages, the first being `first`.
    PageNumber {
        /// The parameter (`page`).
        param: String,
        /// The first page's number (1, or 0 where the spec says so).
        first: u32,
    },
    /// `param` counts the items before the page.
    Offset {
        /// The parameter (`offset`).
        param: String,
    },
}

impl Convention {
    /// The convention's name in `methods.txt` and the docs.
    pub fn label(&self) -> String {
        match self {
            Convention::LastItem { param, .. } => format!("pages: last item → {param}"),
            Convention::BodyCursor { cursor, param } => format!("pages: {cursor} → {param}"),
            Convention::Link => "pages: Link".to_owned(),
            Convention::PageNumber { param, .. } => format!("pages: page number → {param}"),
            Convention::Offset { param } => format!("pages: offset → {param}"),
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
                let integer = |p: &Param| p.schema.get("type").and_then(Value::as_str) == Some("integer");
                let sized = SIZES.iter().any(|s| query(s).is_some());
                if link {
                    Some(Convention::Link)
                } else if let Some(page) = query("page").filter(|p| sized && integer(p)) {
                    let number = |key: &str| page.schema.get(key).and_then(Value::as_u64);
                    let first = number("default").or_else(|| number("minimum")).unwrap_or(1).min(1) as u32;
                    Some(Convention::PageNumber { param: page.name.clone(), first })
                } else {
                    query("offset").filter(|p| sized && integer(p)).map(|p| Convention::Offset { param: p.name.clone() })
                }
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

/// An operation's paging as the manifest's `rule` sets it, over what the spec showed
/// (`detected`): `None` when the rule says `none`. Every parameter it names must be a query
/// parameter of the operation, and only a GET pages.
pub(super) fn overridden(rule: &crate::manifest::PagesRule, detected: Option<Paging>, method: &str, params: &[Param]) -> Result<Option<Paging>> {
    if rule.convention == "none" {
        return Ok(None);
    }
    anyhow::ensure!(method == "GET", "only a GET pages; this operation is a {method}");
    let query = |name: &str| -> Result<String> {
        anyhow::ensure!(params.iter().any(|p| p.name == name && matches!(p.at, super::At::Query(_))), "`{name}` is no query parameter of the operation");
        Ok(name.to_owned())
    };
    let named = |given: &Option<String>, usual: &str| query(given.as_deref().unwrap_or(usual));
    let size = match (&rule.size, detected.as_ref().map(|d| d.size.as_str()).filter(|s| !s.is_empty())) {
        (Some(size), _) => query(size)?,
        (None, Some(size)) => size.to_owned(),
        (None, None) => SIZES.iter().find(|s| params.iter().any(|p| p.name == **s)).map(|s| (*s).to_owned()).unwrap_or_default(),
    };
    let convention = match rule.convention.as_str() {
        "last-item" => Convention::LastItem {
            param: named(&rule.param, "starting_after")?,
            key: rule.key.clone().unwrap_or_else(|| "id".into()),
            more: rule.more.clone().unwrap_or_else(|| "has_more".into()),
        },
        "cursor" => Convention::BodyCursor {
            cursor: rule.cursor.clone().context("a cursor convention names its `cursor` member")?,
            param: query(rule.param.as_deref().context("a cursor convention names the `param` taking it")?)?,
        },
        "link" => Convention::Link,
        "page" | "offset" => {
            anyhow::ensure!(!size.is_empty(), "page numbers and offsets stop at a short page: name the page size parameter (`size`)");
            if rule.convention == "page" {
                Convention::PageNumber { param: named(&rule.param, "page")?, first: rule.first.unwrap_or(1) }
            } else {
                Convention::Offset { param: named(&rule.param, "offset")? }
            }
        }
        other => anyhow::bail!("convention `{other}` is none of last-item, cursor, link, page, offset, none"),
    };
    let items = rule.items.clone().or_else(|| detected.as_ref().map(|d| d.items.clone())).unwrap_or_default();
    let max_size = rule.max_size.or(detected.as_ref().map(|d| d.max_size)).unwrap_or(100).clamp(1, 10_000);
    Ok(Some(Paging { convention, items, size, max_size }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{At, Style};
    use serde_json::json;

    fn param(name: &str, schema: Value) -> Param {
        Param { name: name.into(), at: At::Query(Style::Form), required: false, schema }
    }

    fn paging(params: &[Param]) -> Option<Paging> {
        let op = json!({ "responses": { "200": { "content": { "application/json": { "schema": { "type": "object", "properties": {
            "rows": { "type": "array", "items": {} }, "total": { "type": "integer" } } } } } } } });
        detect(&Spec::from_value(json!({ "openapi": "3.0.0", "paths": {} })).unwrap(), &op, "GET", "/rows", params).unwrap()
    }

    #[test]
    fn page_numbers_and_offsets_need_an_integer_parameter_and_a_size() {
        let int = json!({ "type": "integer" });
        let size = param("limit", json!({ "type": "integer", "maximum": 50 }));
        let numbered = paging(&[param("page", int.clone()), size.clone()]).unwrap();
        assert_eq!(numbered.convention, Convention::PageNumber { param: "page".into(), first: 1 });
        assert_eq!((numbered.items.as_str(), numbered.size.as_str(), numbered.max_size), ("rows", "limit", 50));
        let zero = paging(&[param("page", json!({ "type": "integer", "minimum": 0 })), size.clone()]).unwrap();
        assert_eq!(zero.convention, Convention::PageNumber { param: "page".into(), first: 0 });
        let offsets = paging(&[param("offset", int.clone()), size.clone()]).unwrap();
        assert_eq!(offsets.convention, Convention::Offset { param: "offset".into() });
        // Without a size there is no stop rule; a string `page` is a cursor's, not a number.
        assert_eq!(paging(&[param("page", int.clone())]), None);
        assert_eq!(paging(&[param("page", json!({ "type": "string" })), size.clone()]), None);
    }

    #[test]
    fn the_manifest_sets_or_removes_a_convention_checking_what_it_names() {
        let rule = |toml: &str| -> crate::manifest::PagesRule { toml::from_str(toml).unwrap() };
        let params = [param("after", json!({ "type": "string" })), param("limit", json!({ "type": "integer" }))];
        let set = overridden(&rule("convention = \"cursor\"\ncursor = \"meta.next\"\nparam = \"after\"\nitems = \"results\""), None, "GET", &params).unwrap().unwrap();
        assert_eq!(set.convention, Convention::BodyCursor { cursor: "meta.next".into(), param: "after".into() });
        assert_eq!((set.items.as_str(), set.size.as_str(), set.max_size), ("results", "limit", 100));
        let detected = paging(&[param("page", json!({ "type": "integer" })), param("limit", json!({ "type": "integer" }))]);
        assert_eq!(overridden(&rule("convention = \"none\""), detected, "GET", &params).unwrap(), None);
        for (bad, why) in [
            ("convention = \"cursor\"\ncursor = \"next\"\nparam = \"page_token\"", "`page_token` is no query parameter"),
            ("convention = \"cursor\"\nparam = \"after\"", "names its `cursor`"),
            ("convention = \"pages\"", "is none of"),
        ] {
            let e = overridden(&rule(bad), None, "GET", &params).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert!(overridden(&rule("convention = \"link\""), None, "POST", &params).is_err());
        assert!(overridden(&rule("convention = \"offset\""), None, "GET", &[param("offset", json!({ "type": "integer" }))]).unwrap_err().to_string().contains("short page"));
    }
}
