//! Media types, as the runtime reads them: the essence of a `Content-Type`, whether it is JSON,
//! whether one is fit to send, whether it falls in a range.
//!
//! Compared as written, case-insensitively and in place: these run on every answer (the plain
//! path reads [`is_json`] once per call), so nothing here lowers a copy or allocates. What a
//! media type *means* for a call is its readers' business: [`crate::response`] attaches a body
//! by it, [`crate::body`] types a binary body with it, [`crate::token`] knows a login wall by it.
//! This module knows no call, no request and no credential.

/// A media type's essence, `type/subtype`, as written: `text/html` of `text/html; charset=utf-8`.
pub fn essence(media: &str) -> &str {
    media.split(';').next().unwrap_or("").trim()
}

/// Whether `content_type` is JSON: `application/json`, or any `+json` type.
pub fn is_json(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        // Compared in place: lowering a copy would allocate on every call.
        let essence = essence(ct).as_bytes();
        essence.eq_ignore_ascii_case(b"application/json")
            || essence.len() >= 5 && essence[essence.len() - 5..].eq_ignore_ascii_case(b"+json")
    })
}

/// A media type fit to send: `type/subtype` with no range and nothing a header cannot carry.
pub fn concrete(media: &str) -> bool {
    let essence = essence(media);
    essence.split_once('/').is_some_and(|(t, s)| !t.is_empty() && !s.is_empty())
        && !media.contains('*')
        && crate::header::value_fault(media).is_none()
}

/// Whether `media` falls in `range` (`*/*`, `image/*`).
pub fn in_range(media: &str, range: &str) -> bool {
    let media = essence(media);
    let range = essence(range);
    match range.strip_suffix("/*") {
        Some("*") => true,
        Some(kind) => media.split('/').next().is_some_and(|k| k.eq_ignore_ascii_case(kind)),
        None => media.eq_ignore_ascii_case(range),
    }
}
