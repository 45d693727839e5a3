//! The security suite's corpora (`tests/security/corpus.json`), for native tests and the fuzz
//! targets: the same one list the workerd suites read (`tests/security/corpus.mjs`).

#![allow(dead_code)]

use serde_json::Value;

pub struct Corpus {
    /// Credential canaries (the Worker secret's, per-call keys, secret header values).
    pub credentials: Vec<String>,
    /// The per-call key canaries' prefix and alphabet.
    pub call_key_prefix: String,
    pub call_key_alphabet: Vec<char>,
    pub context: Vec<String>,
    pub paths: Vec<String>,
    pub query_values: Vec<String>,
    pub query_keys: Vec<String>,
    pub header_names_refused: Vec<String>,
    pub header_values_refused: Vec<String>,
    pub header_values_accepted: Vec<String>,
}

/// The marker every credential canary holds (and nothing else a test sends).
pub const CREDENTIAL_MARKER: &str = "CANARY";

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| match item {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) if o.contains_key("repeat") => {
                Some(o["repeat"].as_str().unwrap_or_default().repeat(o["times"].as_u64().unwrap_or(0) as usize))
            }
            // {"js": ...}: lone surrogates, which a Rust string cannot hold.
            _ => None,
        })
        .collect()
}

pub fn load() -> Corpus {
    let json: Value = serde_json::from_str(include_str!("corpus.json")).expect("corpus.json is JSON");
    let canaries = &json["canaries"];
    let mut credentials = Vec::new();
    let mut context = Vec::new();
    for (_, canary) in canaries.as_object().expect("canaries").iter().filter(|(k, _)| !k.starts_with('$')) {
        let values = strings(&canary["values"]);
        if canary["kind"] == "context" {
            context.extend(values);
        } else {
            credentials.extend(values);
        }
    }
    Corpus {
        credentials,
        call_key_prefix: canaries["callKey"]["prefix"].as_str().unwrap_or_default().to_owned(),
        call_key_alphabet: canaries["callKey"]["alphabet"].as_str().unwrap_or_default().chars().collect(),
        context,
        paths: strings(&json["paths"]["values"]),
        query_values: strings(&json["queryValues"]["values"]),
        query_keys: strings(&json["queryValues"]["keys"]),
        header_names_refused: strings(&json["headerNames"]["refused"]),
        header_values_refused: strings(&json["headerValues"]["refused"]),
        header_values_accepted: strings(&json["headerValues"]["accepted"]),
    }
}
