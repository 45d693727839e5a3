//! The `fetch` wire as tests read it (`HttpRequest::push_fetch_json`), for the test crates that
//! include it with `#[path]`.

/// The headers of the `fetch` wire: a record, or pairs when a name repeats.
pub fn wire_headers(v: &serde_json::Value) -> Vec<(String, String)> {
    match v {
        serde_json::Value::Object(m) => m.iter().map(|(n, v)| (n.clone(), v.as_str().unwrap().to_owned())).collect(),
        other => other.as_array().unwrap().iter().map(|h| (h[0].as_str().unwrap().to_owned(), h[1].as_str().unwrap().to_owned())).collect(),
    }
}
