//! The HTTP exchange the entry performs for the runtime: the request it is handed
//! ([`HttpRequest`], written for `fetch` by [`HttpRequest::push_fetch_json`]) and what it
//! reports of the answer ([`HttpResponse`], its body left where it is: [`BodyText`]).
//!
//! Every request the runtime makes goes through here: an operation's ([`crate::request`]
//! builds it from the table and the call's arguments), a token exchange or a login
//! ([`crate::token`]), a redirect followed ([`crate::call`]). So does every answer, judged by
//! [`crate::response`] or read by [`crate::token`]. This module is the shape they share and
//! nothing of what fills it: it does not know operations, schemes or verdicts.
//!
//! It is also the one place credentials are written out, on their way upstream: a header value
//! keeps a credential wrapped ([`HeaderValue`]: a [`Secret`], the deployment's prepared
//! [`WorkerSecrets`], a cached token) until [`HttpRequest::push_fetch_json`] writes the request
//! for `fetch`, and a key that travels in the query joins the URL only then
//! ([`HttpRequest::wire_url`]), so the URL anything else could show never holds it.

use crate::auth::WorkerSecrets;
use crate::body::RequestBody;
use crate::redact::Redactor;
use crate::secret::Secret;
use crate::table::Method;
use std::borrow::Cow;
use std::rc::Rc;

/// An upstream request, ready to hand to `fetch`.
#[derive(Debug)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(&'static str, HeaderValue)>,
    pub body: Option<RequestBody>,
    /// Credentials that travel in the query (a `Query` scheme's key, credential parameters
    /// declared in the query, [`crate::creds`]): each parameter's name and value, appended to
    /// `url` only when the request is written for `fetch`, so the URL anything else could show
    /// never holds them (see [`crate::auth`]). Empty (no allocation) for most requests.
    pub query_credentials: Vec<(&'static str, HeaderValue)>,
}

/// A header value; credentials stay wrapped until the request is handed to `fetch`.
#[derive(Debug)]
pub enum HeaderValue {
    /// From the table or the manifest: no allocation per call.
    Static(&'static str),
    Plain(String),
    Secret(Secret),
    /// The key of the deployment's scheme `.1`, prepared once per `env`.
    WorkerKey(Rc<WorkerSecrets>, u8),
    /// Credential header `.2` of the deployment's scheme `.1`.
    WorkerHeader(Rc<WorkerSecrets>, u8, usize),
    /// The deployment's access token, as cached ([`crate::token`]).
    Token(Rc<Secret>),
}

impl HeaderValue {
    /// The length of what travels, for sizing a URL before the credential joins it.
    pub(crate) fn wire_len(&self) -> usize {
        self.expose().len()
    }

    /// What travels. Only for what joins it on its way out (a `Cookie` header's further
    /// cookies, [`crate::creds`]): anything printed never holds it.
    pub(crate) fn expose(&self) -> &str {
        match self {
            HeaderValue::Static(s) => s,
            HeaderValue::Plain(s) => s,
            HeaderValue::Secret(s) => s.expose(),
            HeaderValue::WorkerKey(w, scheme) => w.scheme(*scheme).map_or("", |s| s.wire.expose()),
            HeaderValue::WorkerHeader(w, scheme, i) => w.scheme(*scheme).and_then(|s| s.headers.get(*i)).map_or("", |(_, v)| v.expose()),
            HeaderValue::Token(t) => t.expose(),
        }
    }
}

impl HttpRequest {
    /// Writes the request as JSON for the JS entry to pass to `fetch(url, init)`: the array
    /// `[url, method, body or null, headers, scan]` (a body that is not text is described for
    /// the entry to assemble: [`crate::body`]), where `scan` lists the credential values (in
    /// every form they travel) the entry looks for in the response body. An array rather than
    /// an object: the entry parses one per call, and an array builds no object shape and looks
    /// up no key. This is the one place credentials are written out, on their way upstream;
    /// nothing else serializes a request. Appended to `out`, the wire string.
    ///
    /// `headers` is an object, `{"name": "value", ...}`, which `fetch` reads as a record: workerd
    /// unwraps a list of pairs through the iterator protocol, once per pair and once per list,
    /// ~30 µs a call, most of what `fetch` itself cost a small call (bench/README.md). A record
    /// and a list give the same `Headers` (each entry appended, so two spellings of one name
    /// are joined in order as they always were; a name of digits alone, which no other
    /// spelling shares, goes first), except for a name written twice exactly, which an object
    /// cannot hold: then the list of pairs, as before.
    pub fn push_fetch_json(&self, out: &mut String, scan: &Redactor) {
        out.reserve(self.url.len() + 320 + self.body.as_ref().map_or(0, RequestBody::text_len));
        out.push('[');
        crate::json::push_str(out, &self.wire_url());
        out.push_str(",\"");
        out.push_str(self.method.as_str());
        out.push_str("\",");
        match &self.body {
            Some(body) => body.push_json(out),
            None => out.push_str("null"),
        }
        out.push(',');
        self.push_headers_json(out);
        out.push(',');
        scan.push_scan_json(out);
        out.push(']');
    }

    /// The headers as `fetch` takes them: a record, or pairs when a name repeats (above).
    fn push_headers_json(&self, out: &mut String) {
        let repeats = self.headers.iter().enumerate().any(|(i, (name, _))| self.headers[..i].iter().any(|(n, _)| n == name));
        let (open, close, pair_open, pair_close, sep) = if repeats { ('[', ']', "[\"", "]", "\",") } else { ('{', '}', "\"", "", "\":") };
        out.push(open);
        for (i, (name, value)) in self.headers.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            // Header names are HTTP tokens from the table (no character JSON escapes), and so
            // are the table's static values; anything else goes through the escaping writer.
            out.push_str(pair_open);
            out.push_str(name);
            out.push_str(sep);
            match value {
                HeaderValue::Static(text) => crate::json::push_raw(out, text),
                other => crate::json::push_str(out, other.expose()),
            }
            out.push_str(pair_close);
        }
        out.push(close);
    }

    /// The URL `fetch` is given: [`HttpRequest::url`] with the query credentials, if any, each
    /// once, after the call's own query, joined by one `?` then `&`.
    pub fn wire_url(&self) -> Cow<'_, str> {
        if self.query_credentials.is_empty() {
            return Cow::Borrowed(&self.url);
        }
        let mut url = self.url.clone();
        for (name, value) in &self.query_credentials {
            url = url_with(&url, name, value.expose());
        }
        Cow::Owned(url)
    }

    /// The value of a header as it travels (a per-call basic pair's, for the call's needles:
    /// `crate::call`; and for tests).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.expose())
    }
}

/// `url` with `name=value` added to its query, both percent-encoded.
#[inline(never)]
fn url_with(url: &str, name: &str, value: &str) -> String {
    let mut full = String::with_capacity(url.len() + name.len() + value.len() * 3 + 2);
    full.push_str(url);
    full.push(if url.contains('?') { '&' } else { '?' });
    crate::encode::percent_encode_into(&mut full, name);
    full.push('=');
    crate::encode::percent_encode_into(&mut full, value);
    full
}

/// What the JS entry reports of an upstream response.
#[derive(Clone, Copy)]
pub struct HttpResponse<'a> {
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub request_id: Option<&'a str>,
    /// Read only for a 3xx (the entry reports it for those alone).
    pub location: Option<&'a str>,
    /// What its headers say about trying again ([`crate::retry::Hints`]); read only for a 4xx
    /// or 5xx (the entry reports them for those alone).
    pub hints: crate::retry::Hints,
    /// Its `Link` header: read only for a 2xx of a call walking pages ([`crate::pages`]; the
    /// entry reports it for those alone).
    pub link: Option<&'a str>,
    /// The entry read the body as bytes (a 2xx whose media type is not text), which it keeps:
    /// [`BodyText::flagged`] is what its scan of their text found, and [`BodyText::text`] that
    /// text when it flagged (else empty).
    pub binary: bool,
    pub body: &'a dyn BodyText,
}

/// The response body, wherever it lives. In the Worker it stays a JS string: the entry scans it
/// itself (one pass, for what the request's scan list names: [`crate::redact`]) and, when
/// nothing flags, attaches its own copy to the envelope. Only bodies that must be judged,
/// rewritten or read (flagged ones, error objects) are copied into wasm.
pub trait BodyText {
    fn is_empty(&self) -> bool;
    /// Whether the entry's scan flagged the body: it may hold one of `redactor`'s credentials
    /// in some view, or a watched marker. `json`: it is read as JSON.
    fn flagged(&self, redactor: &Redactor, json: bool) -> bool;
    /// The text itself.
    fn text(&self) -> Cow<'_, str>;
}

impl BodyText for &str {
    fn is_empty(&self) -> bool {
        str::is_empty(self)
    }
    fn flagged(&self, redactor: &Redactor, json: bool) -> bool {
        redactor.flags(self, json)
    }
    fn text(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(headers: Vec<(&'static str, HeaderValue)>) -> String {
        let request = HttpRequest { method: Method::Get, url: "https://api.example.com/v1/x".into(), headers, body: None, query_credentials: Vec::new() };
        let mut out = String::new();
        request.push_fetch_json(&mut out, &Redactor::default());
        out
    }

    #[test]
    fn headers_travel_as_a_record_unless_a_name_repeats() {
        // Two spellings of one name are two keys, appended in order by `fetch` as pairs were.
        let record = wire(vec![("accept", HeaderValue::Static("application/json")), ("Cookie", HeaderValue::Plain("a=1".into())), ("cookie", HeaderValue::Secret(Secret::new("b=\"2\"".into())))]);
        assert!(record.contains(r#",{"accept":"application/json","Cookie":"a=1","cookie":"b=\"2\""},"#), "{record}");
        // A name written twice exactly: an object would keep one, so the pairs go as they are.
        let pairs = wire(vec![("x-a", HeaderValue::Plain("1".into())), ("x-b", HeaderValue::Static("2")), ("x-a", HeaderValue::Plain("3".into()))]);
        assert!(pairs.contains(r#",[["x-a","1"],["x-b","2"],["x-a","3"]],"#), "{pairs}");
        assert!(wire(Vec::new()).contains(",null,{},"), "{}", wire(Vec::new()));
    }
}
