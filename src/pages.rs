//! Many pages in one call: `options.pages`, walked here, page by page, into one result.
//!
//! Callers want "the first 250 customers" in one call, as stripe-node's auto-pagination and
//! Octokit's `paginate` give them. A call with `options.pages` asks for that; this module holds
//! the walk's rules and nothing else: which items a page holds, where the next page is, when the
//! walk stops, and what the caller gets back. Sending each page is [`crate::call`]'s, which
//! builds every page's request with the normal request builder for the same operation.
//!
//! # Conventions
//!
//! How an operation pages is data the generator found in the spec ([`crate::table::Paging`];
//! docs/pages.md states the detection rules):
//! - **the last item** (Stripe's lists): while the answer's `has_more` is true, the next page is
//!   the same call with `starting_after` set to the last item's `id`;
//! - **a cursor in the body** (Twitch's `pagination.cursor` into `after`, Stripe search's
//!   `next_page` into `page`, `next_cursor`, `nextPageToken`): the next page is the same call with
//!   that parameter set to the cursor; no cursor, the last page;
//! - **the `Link` header** (GitHub): `rel="next"` names the next page's URL;
//! - **page numbers** and **offsets**: the next page is the same call with `page` one more, or
//!   `offset` moved past the items this page held. Nothing in the answer says whether more
//!   follow, so the walk stops at a page shorter than the size it asked for (or empty), or once
//!   the answer's `total_count` or `total` says every item came.
//!
//! # The cursor never routes
//!
//! Nothing an upstream says chooses where the next request goes. A cursor is a parameter value;
//! a `Link` URL must name the request's own origin and path, and is reduced to the operation's
//! own query parameters (a parameter it does not declare ends the walk with an error): the next
//! request is then built from those parameters as any call's is, by the same builder, so it
//! carries the same credential to the same place and nowhere else.
//!
//! # Caps and `next`
//!
//! A walk stops at `maxItems` items or `maxPages` pages (defaults and maxima below, as
//! stripe-node's `autoPagingToArray` insists on at most 10,000 items), when the last page
//! comes, or when the call's requests ([`MAX_REQUESTS`]) would run out. `next` is exactly the
//! params to pass back to continue: nothing is lost or repeated, also when `maxItems` ends the
//! walk inside a page. For the last-item convention the cut item's id continues it; for cursors
//! the walk asks the last page for only the items it still wants (the size parameter), so a cut
//! never falls inside a page; for page numbers (a `Link` carrying `page`) the next page is
//! renumbered with a page size dividing the items taken (`gcd`), so it begins at the first item
//! not taken.

use crate::error::CallError;
use crate::redact::Redactor;
use crate::table::{At, Convention, Operation, Paging};
use crate::value::{Number, Value};

/// The most items one call may gather (stripe-node's `autoPagingToArray` cap).
pub const MAX_ITEMS: u32 = 10_000;
/// The most pages one call may walk.
pub const MAX_PAGES: u32 = 40;
/// Items gathered when `options.pages` does not say.
pub const DEFAULT_MAX_ITEMS: u32 = 1_000;
/// Pages walked when `options.pages` does not say.
pub const DEFAULT_MAX_PAGES: u32 = 10;
/// The most upstream requests a call walking pages sends, pages, retries and redirects
/// together: Workers' subrequest limit per invocation on the free plan.
pub const MAX_REQUESTS: u32 = 50;

/// What `options.pages` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_items: u32,
    pub max_pages: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_items: DEFAULT_MAX_ITEMS, max_pages: DEFAULT_MAX_PAGES }
    }
}

/// Members of a list answer kept beside the items, from the last page, when they are numbers or
/// booleans: GitHub's search (`total_count`, `incomplete_results`), Twitch's `total`.
pub const KEPT: [&str; 3] = ["total_count", "incomplete_results", "total"];

/// A page's items: parsed (each redacted as it joins the result), or as the text they came in.
#[derive(Clone, Copy)]
enum Items<'a> {
    Parsed(&'a [Value]),
    Raw(&'a [&'a str]),
}

impl Items<'_> {
    fn len(&self) -> usize {
        match self {
            Items::Parsed(values) => values.len(),
            Items::Raw(raw) => raw.len(),
        }
    }

    /// Item `i`'s member `key` (the last item's `id`, for the next page's cursor).
    fn key(&self, i: usize, key: &str) -> Option<Value> {
        match self {
            Items::Parsed(values) => values.get(i)?.get(key).cloned(),
            Items::Raw(raw) => crate::parse::parse(raw.get(i)?).ok()?.get(key).cloned(),
        }
    }
}

/// What a page decided.
#[derive(Debug, PartialEq)]
pub enum Turn {
    /// Fetch another page, with [`Walk::params`].
    Next,
    /// The walk is over: the result's JSON text.
    Done(String),
}

/// A walk in progress: the items so far (redacted JSON, comma-separated) and the params of the
/// page to fetch next.
#[derive(Debug)]
pub struct Walk {
    paging: Paging,
    limits: Limits,
    pages: u32,
    items: u32,
    data: String,
    /// [`KEPT`] members of the last page, as JSON (`,"total_count":3`).
    kept: String,
    /// The params of the page being fetched (the caller's, with the walk's cursor and size).
    params: Vec<(String, Value)>,
    /// The params to continue after the walk, once it stopped with more to come.
    next: Option<Vec<(String, Value)>>,
}

impl Walk {
    /// A walk of an operation paging as `paging`, from the caller's `params` (an object's
    /// entries), within `limits`. The first page asks for as many items as the walk wants, up to
    /// a page's maximum, unless the caller chose a size.
    pub fn new(paging: Paging, limits: Limits, params: Vec<(String, Value)>) -> Walk {
        let mut walk = Walk { paging, limits, pages: 0, items: 0, data: String::new(), kept: String::new(), params, next: None };
        if !paging.size.is_empty() && walk.param(paging.size).is_none() {
            let size = limits.max_items.min(paging.max_size).max(1);
            walk.set(paging.size, Value::Number(Number::from_u64(u64::from(size))));
        }
        walk
    }

    /// The params of the page to fetch now.
    pub fn params(&self) -> &[(String, Value)] {
        &self.params
    }

    /// The answer's member holding the items (`""`: the answer is the array).
    pub fn items_member(&self) -> &'static str {
        self.paging.items
    }

    /// Pages taken so far.
    pub fn pages(&self) -> u32 {
        self.pages
    }

    fn param(&self, name: &str) -> Option<&Value> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// A param's value as a whole number, if it is one.
    fn number(&self, name: &str) -> Option<u64> {
        self.param(name).and_then(|v| v.scalar_text()).and_then(|t| t.parse::<u64>().ok())
    }

    fn set(&mut self, name: &str, value: Value) {
        match self.params.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => *v = value,
            None => self.params.push((name.to_owned(), value)),
        }
    }

    /// A page answered `body`, with `link` its `Link` header, to a request sent to `request_url`
    /// for `op`: its items join the result, and the walk goes on ([`Turn::Next`],
    /// [`Walk::params`] updated) or ends. `raw`: the items as the text they came in, for a page
    /// the entry's scan did not flag (it holds no credential in any view), copied into the result
    /// as they are, `body` then holding the answer's other members; `None`: the items are
    /// `body`'s own, each redacted. `requests_left`: how many more requests the call may send.
    /// An answer without its items, or a next page elsewhere, is an error.
    #[allow(clippy::too_many_arguments)]
    pub fn page(&mut self, op: &Operation, body: &Value, raw: Option<&[&str]>, link: Option<&str>, request_url: &str, requests_left: u32, redactor: &Redactor) -> Result<Turn, CallError> {
        let parsed = match (raw, self.paging.items) {
            (Some(_), _) => None,
            (None, "") => Some(body),
            (None, member) => Some(body.get(member).unwrap_or(&Value::Null)),
        };
        let items = match (raw, parsed) {
            (Some(raw), _) => Items::Raw(raw),
            (None, Some(Value::Array(values))) => Items::Parsed(values),
            _ => {
                return Err(CallError::invalid(format!(
                    "page {} of the walk holds no list of items ({}), so the walk stopped",
                    self.pages + 1,
                    if self.paging.items.is_empty() { "the answer is no array".to_owned() } else { format!("no array at `{}`", self.paging.items) }
                )))
            }
        };
        let count = items.len();
        let want = (self.limits.max_items - self.items) as usize;
        let taken = count.min(want);
        for i in 0..taken {
            if self.items > 0 {
                self.data.push(',');
            }
            match items {
                Items::Raw(raw) => self.data.push_str(raw[i]),
                Items::Parsed(values) => {
                    redactor.push_value(&values[i], false, &mut self.data);
                }
            }
            self.items += 1;
        }
        self.pages += 1;
        self.kept.clear();
        for name in KEPT {
            if let Some(value @ (Value::Number(_) | Value::Bool(_))) = body.get(name) {
                self.kept.push_str(",\"");
                self.kept.push_str(name);
                self.kept.push_str("\":");
                value.push_json(&mut self.kept);
            }
        }
        let cut = taken < count;
        // Page numbers and offsets: whether this was the last page, by its size or a total.
        let last_page = || {
            let asked = self.number(self.paging.size).unwrap_or(u64::from(self.paging.max_size));
            let total = ["total_count", "total"].iter().find_map(|m| body.get(m)).and_then(|v| v.scalar_text()).and_then(|t| t.parse::<u64>().ok());
            let before = match self.paging.convention {
                Convention::Offset { param } => self.number(param).unwrap_or(0),
                Convention::PageNumber { param, first } => self.number(param).unwrap_or(u64::from(first)).saturating_sub(u64::from(first)) * asked,
                _ => 0,
            };
            count == 0 || (count as u64) < asked || total.is_some_and(|t| before + count as u64 >= t)
        };
        // Where the items after the last one taken are: this page's own params again, moved on.
        let more = match self.paging.convention {
            Convention::LastItem { param, key, more } => {
                let has_more = matches!(body.get(more), Some(Value::Bool(true)));
                match taken.checked_sub(1).and_then(|i| items.key(i, key)) {
                    Some(last) if cut || has_more => {
                        self.set(param, last);
                        true
                    }
                    _ => false,
                }
            }
            Convention::BodyCursor { cursor, param } => match member(body, cursor) {
                // A cut inside a page leaves its rest behind the cursor: start the page again
                // (the size asked for below keeps this from happening with upstreams that honour
                // it).
                _ if cut => true,
                Some(value @ (Value::String(_) | Value::Number(_))) if value.as_str() != Some("") => {
                    self.set(param, value.clone());
                    true
                }
                _ => false,
            },
            Convention::PageNumber { param, first } => {
                if cut {
                    self.renumber(param, first, taken as u64)
                } else if last_page() {
                    false
                } else {
                    let page = self.number(param).unwrap_or(u64::from(first));
                    self.set(param, Value::Number(Number::from_u64(page + 1)));
                    true
                }
            }
            Convention::Offset { param } => {
                // A cut continues at the first item not taken: offsets need no renumbering.
                if cut || !last_page() {
                    let offset = self.number(param).unwrap_or(0);
                    self.set(param, Value::Number(Number::from_u64(offset + taken as u64)));
                    true
                } else {
                    false
                }
            }
            Convention::Link => {
                if cut {
                    self.renumber("page", 1, taken as u64)
                } else {
                    match link.and_then(next_link) {
                        Some(url) => {
                            let params = reduce(op, url, request_url)?;
                            for (name, value) in params {
                                self.set(&name, value);
                            }
                            true
                        }
                        None => false,
                    }
                }
            }
        };
        let remaining = self.limits.max_items - self.items;
        if !more {
            return Ok(Turn::Done(self.result(false, redactor)));
        }
        if remaining == 0 || self.pages >= self.limits.max_pages || requests_left == 0 {
            self.next = Some(self.params.clone());
            return Ok(Turn::Done(self.result(true, redactor)));
        }
        // A cursor's next page asks for what the walk still wants, so that it ends on a page's
        // end (page numbers keep their size: a smaller one would renumber the pages).
        if !self.paging.size.is_empty() && !matches!(self.paging.convention, Convention::Link | Convention::PageNumber { .. }) {
            let size = self.param(self.paging.size).and_then(|v| v.scalar_text()).and_then(|t| t.parse::<u32>().ok()).unwrap_or(self.paging.max_size);
            if remaining < size {
                self.set(self.paging.size, Value::Number(Number::from_u64(u64::from(remaining))));
            }
        }
        Ok(Turn::Next)
    }

    /// A page-numbered walk cut after `taken` items of the page it fetched: the params that
    /// begin at the first item not taken, with a page size dividing the items before it. False
    /// when the page has no number or size to renumber (a cursor link): the cut page again.
    fn renumber(&mut self, param: &str, first: u32, taken: u64) -> bool {
        let size_name = self.paging.size;
        let first = u64::from(first);
        let (Some(size), page) = (self.number(size_name).filter(|s| *s > 0), self.number(param).unwrap_or(first)) else { return true };
        let offset = (page.max(first) - first) * size + taken;
        let new_size = gcd(offset, size);
        self.set(size_name, Value::Number(Number::from_u64(new_size)));
        self.set(param, Value::Number(Number::from_u64(offset / new_size + first)));
        true
    }

    /// The result: `{ data, hasMore, next, pages }`; `next` the params to continue with, or
    /// null. Every string of `next` passes `redactor`, as the items did: a cursor is the
    /// upstream's word, and an upstream may put a credential in it.
    fn result(&self, has_more: bool, redactor: &Redactor) -> String {
        let mut out = String::with_capacity(self.data.len() + 64);
        out.push_str("{\"data\":[");
        out.push_str(&self.data);
        out.push_str("],\"hasMore\":");
        out.push_str(if has_more { "true" } else { "false" });
        out.push_str(",\"next\":");
        push_params(self.next.as_deref(), redactor, &mut out);
        out.push_str(",\"pages\":");
        crate::json::push_u64(&mut out, u64::from(self.pages), 0);
        out.push_str(&self.kept);
        out.push('}');
        out
    }

    /// What a failure on a later page keeps: `{ data, next }`, the items so far and the params
    /// of the page that failed (redacted, as [`Walk::result`]'s); `None` before any page was
    /// taken.
    pub fn partial(&self, redactor: &Redactor) -> Option<String> {
        if self.pages == 0 {
            return None;
        }
        let mut out = String::with_capacity(self.data.len() + 64);
        out.push_str("{\"data\":[");
        out.push_str(&self.data);
        out.push_str("],\"next\":");
        push_params(Some(&self.params), redactor, &mut out);
        out.push('}');
        Some(out)
    }
}

/// Params as a JSON object (`null` for none), every string and key through `redactor`.
fn push_params(params: Option<&[(String, Value)]>, redactor: &Redactor, out: &mut String) {
    match params {
        None => out.push_str("null"),
        Some(params) => {
            redactor.push_value(&Value::Object(params.to_vec()), false, out);
        }
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// The member at a dotted path (`pagination.cursor`).
fn member<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |v, key| v.get(key))
}

/// The URL of a `Link` header's `rel="next"` (RFC 8288): `<url>; rel="next"`, among others
/// separated by commas (a URL holds no `>`; one holding a comma is taken whole all the same,
/// since the split is only after its `>`).
pub fn next_link(header: &str) -> Option<&str> {
    let mut rest = header;
    loop {
        let open = rest.find('<')?;
        let close = open + rest[open..].find('>')?;
        let params_end = rest[close..].find('<').map_or(rest.len(), |i| close + i);
        let params = &rest[close + 1..params_end];
        if params.split(';').any(|p| matches!(p.trim().split_once('='), Some((k, v)) if k.trim().eq_ignore_ascii_case("rel") && v.trim_matches(|c: char| c == '"' || c == ',' || c.is_ascii_whitespace()).split(' ').any(|r| r.eq_ignore_ascii_case("next")))) {
            return Some(&rest[open + 1..close]);
        }
        rest = &rest[params_end..];
    }
}

/// A next page's URL reduced to `op`'s own query parameters, after checking it names the
/// origin and path of `request_url`, the request that brought it.
pub fn reduce(op: &Operation, url: &str, request_url: &str) -> Result<Vec<(String, Value)>, CallError> {
    let base = |u: &str| u.split(['?', '#']).next().unwrap_or("").to_ascii_lowercase();
    if base(url) != base(request_url) {
        let why = if crate::origin::origin_of(url).eq_ignore_ascii_case(crate::origin::origin_of(request_url)) { "another path" } else { "another origin" };
        return Err(CallError::invalid(format!("the upstream's next page is at {why} than the call's; a walk never leaves the operation's own origin and path, so it stopped")));
    }
    let query = url.split('#').next().unwrap_or("").split_once('?').map_or("", |(_, q)| q);
    let mut params: Vec<(String, Value)> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (name, value) = (decode(name), decode(value));
        let Some(param) = op.params.iter().find(|p| matches!(p.at, At::Query(_) | At::QueryAlias(_)) && p.wire_name() == name) else {
            return Err(CallError::invalid("the upstream's next page names a parameter the operation does not declare, so the walk stopped"));
        };
        let whole = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) && (value == "0" || !value.starts_with('0')) && value.len() < 16;
        params.push((param.name.to_owned(), if whole { Value::Number(Number::from_json(&value)) } else { Value::String(value) }));
    }
    Ok(params)
}

/// Percent-decoding of a query component (`+` a space); text whose escapes are not UTF-8 is
/// kept as written.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        out.push(match bytes[i] {
            b'+' => b' ',
            b'%' if i + 2 < bytes.len() && hex(bytes[i + 1]).is_some() && hex(bytes[i + 2]).is_some() => {
                i += 2;
                (hex(bytes[i - 1]).unwrap_or(0) * 16 + hex(bytes[i]).unwrap_or(0)) as u8
            }
            b => b,
        });
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_next_link_among_others() {
        let h = r#"<https://api.github.com/repositories/1/issues?page=2>; rel="next", <https://api.github.com/repositories/1/issues?page=5>; rel="last""#;
        assert_eq!(next_link(h), Some("https://api.github.com/repositories/1/issues?page=2"));
        let h = r#"<https://x/a?page=1>; rel="prev", <https://x/a?page=3>; rel="next""#;
        assert_eq!(next_link(h), Some("https://x/a?page=3"));
        assert_eq!(next_link(r#"<https://x/a?page=1>; rel="prev""#), None);
        assert_eq!(next_link(r#"<https://x/a?page=9>; rel="last next""#), Some("https://x/a?page=9"));
        assert_eq!(next_link("garbage"), None);
    }

    #[test]
    fn decodes_query_components() {
        assert_eq!(decode("a%20b+c"), "a b c");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz"), "%zz");
        assert_eq!(decode("%41"), "A");
    }

    #[test]
    fn page_numbers_and_offsets_walk_until_a_short_page_or_the_total() {
        use crate::table::{AuthUse, Body, Method};
        static OP: Operation = Operation { id: "list", call: "rows.list", method: Method::Get, path: "/rows", server: 0, path_params: &[], multi: 0, params: &[], body: Body::None, auth: AuthUse::Never, scheme: 0, classes: 0 };
        let rows = |from: u64, n: u64| Value::Array((from..from + n).map(|i| Value::Number(Number::from_u64(i))).collect());
        let redactor = Redactor::default();
        let numbered = Paging { convention: Convention::PageNumber { param: "page", first: 1 }, items: "", size: "per_page", max_size: 100 };
        // 25 rows in pages of 10: pages 1, 2, then a short third page ends it.
        let mut walk = Walk::new(numbered, Limits { max_items: 100, max_pages: 10 }, vec![(String::from("per_page"), Value::Number(Number::from_u64(10)))]);
        assert_eq!(walk.page(&OP, &rows(0, 10), None, None, "", 40, &redactor).unwrap(), Turn::Next);
        assert_eq!(walk.number("page"), Some(2));
        assert_eq!(walk.page(&OP, &rows(10, 10), None, None, "", 40, &redactor).unwrap(), Turn::Next);
        assert_eq!(walk.number("page"), Some(3));
        let Turn::Done(result) = walk.page(&OP, &rows(20, 5), None, None, "", 40, &redactor).unwrap() else { panic!() };
        assert!(result.contains("\"hasMore\":false") && walk.items == 25, "{result}");
        // Cut at 15 of 20: page 2 of size 5 begins at item 15... renumbered so `next` continues there.
        let mut walk = Walk::new(numbered, Limits { max_items: 15, max_pages: 10 }, vec![(String::from("per_page"), Value::Number(Number::from_u64(10)))]);
        walk.page(&OP, &rows(0, 10), None, None, "", 40, &redactor).unwrap();
        let Turn::Done(result) = walk.page(&OP, &rows(10, 10), None, None, "", 40, &redactor).unwrap() else { panic!() };
        assert!(result.contains("\"next\":{\"per_page\":5,\"page\":4}"), "{result}");
        // Offsets: a total ends the walk without a short page; a cut continues at the next item.
        let offsets = Paging { convention: Convention::Offset { param: "offset" }, items: "rows", size: "limit", max_size: 100 };
        let page = |from: u64, n: u64, total: u64| Value::Object(vec![(String::from("rows"), rows(from, n)), (String::from("total"), Value::Number(Number::from_u64(total)))]);
        let mut walk = Walk::new(offsets, Limits { max_items: 100, max_pages: 10 }, vec![(String::from("limit"), Value::Number(Number::from_u64(10)))]);
        assert_eq!(walk.page(&OP, &page(0, 10, 20), None, None, "", 40, &redactor).unwrap(), Turn::Next);
        assert_eq!(walk.number("offset"), Some(10));
        assert!(matches!(walk.page(&OP, &page(10, 10, 20), None, None, "", 40, &redactor).unwrap(), Turn::Done(r) if r.contains("\"hasMore\":false")));
        let mut walk = Walk::new(offsets, Limits { max_items: 7, max_pages: 10 }, vec![(String::from("limit"), Value::Number(Number::from_u64(10)))]);
        // The first page already asks for no more than the walk wants.
        assert_eq!(walk.number("limit"), Some(10));
        let Turn::Done(result) = walk.page(&OP, &page(0, 10, 50), None, None, "", 40, &redactor).unwrap() else { panic!() };
        assert!(result.contains("\"next\":{\"limit\":10,\"offset\":7}"), "{result}");
        // An empty first page is the last.
        let mut walk = Walk::new(offsets, Limits::default(), Vec::new());
        assert!(matches!(walk.page(&OP, &page(0, 0, 0), None, None, "", 40, &redactor).unwrap(), Turn::Done(_)));
    }

    #[test]
    fn gcd_renumbers_pages() {
        assert_eq!(gcd(45, 30), 15);
        assert_eq!(gcd(0, 30), 30);
        assert_eq!(gcd(7, 30), 1);
    }
}
