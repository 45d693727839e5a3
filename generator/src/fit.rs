//! Whether text from the manifest or the spec fits where the generated files put it.
//!
//! Two rules the runtime relies on and does not check again, so the generator refuses what
//! breaks them, whichever input it comes from: a string the runtime writes into JSON as it is
//! ([`unfit_for_raw_json`](crate::fit::unfit_for_raw_json)), and a URL a credential may travel to over plain http
//! ([`is_loopback`](crate::fit::is_loopback): only the machine itself). The rules alone: which strings and which URLs
//! are asked about is the manifest's ([`crate::manifest`], [`crate::schemes`]) and the
//! model's ([`crate::model`]) to know.

/// Whether `text` holds a quote, a backslash or a control character. The runtime writes the
/// table's strings (operation ids, paths, media types, pinned header values) into JSON as they
/// are, unescaped (`json::push_raw` in src/json.rs), so the generator refuses any such string.
pub fn unfit_for_raw_json(text: &str) -> bool {
    text.chars().any(|c| c == '"' || c == '\\' || c.is_control())
}

/// `http://127.0.0.1…`, `http://localhost…`, `http://[::1]…`: where plain http is fine.
pub fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let name = if host.starts_with('[') { host.split_inclusive(']').next().unwrap_or("") } else { host.split(':').next().unwrap_or("") };
    matches!(name.to_ascii_lowercase().as_str(), "127.0.0.1" | "localhost" | "[::1]")
}
