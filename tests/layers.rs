//! The runtime's modules in layers, and no import cycle among them.
//!
//! Each module of `src/` may use modules of its own layer or of the layers below it, never one
//! above: read from the bottom up, each layer is explained by what is under it. Within a layer
//! the modules may use each other, one way: a cycle anywhere fails this test, naming it and
//! where each of its edges is. What counts as a use, and what is blind to it, is in
//! `tests/layers/scan.rs` (paths through `crate::`, outside comments, strings and
//! `#[cfg(test)]` items). ARCHITECTURE.md quotes [`LAYERS`].
//!
//! A module that fits no layer as it is names a design question (it knows too much, or too
//! little is below it), answered by moving what it shares down, not by moving it up.

#[path = "layers/scan.rs"]
mod scan;

/// The runtime's layers, lowest first.
const LAYERS: &[(&str, &[&str])] = &[
    // Data and text, knowing nothing of a call: the operation table's types, JSON read and
    // written by hand, values that cannot print, what a header carries, base64, the views a
    // caller can decode, PEM keys, media types and origins.
    ("data", &["table", "json", "value", "parse", "secret", "header", "forms", "views", "pem", "media", "origin"]),
    // What a call can fail with, and what none of its answers may show.
    ("errors and redaction", &["error", "redact"]),
    // A call's inputs (its arguments, their encodings, the rights, budgets and grants that admit
    // it, the Secrets Store's values, the retry policy its options choose) and the form of its answer
    // (receipts, envelopes).
    ("inputs and envelopes", &["args", "encode", "rights", "budget", "grant", "store", "retry", "pages", "receipt"]),
    // How a credential travels, and bodies that are not one string.
    ("credentials and bodies", &["auth", "body"]),
    // The HTTP exchange the entry performs for the runtime: the request it is handed, the
    // response it reports.
    ("the exchange", &["http"]),
    // The three stages of a call: an operation's request, the token lifecycle, the verdict on
    // an answer.
    ("stages", &["creds", "request", "token", "soft", "response"]),
    // One call as a state machine, driving the stages.
    ("the call", &["call"]),
    // This build: which provider, and the exports the generated entry calls.
    ("the build", &["provider", "wasm"]),
];

#[test]
fn the_runtime_keeps_its_layers() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // `provider` is an `include!` of the generated table (src/lib.rs): every provider's, read
    // as its source.
    let mut generated: Vec<(&str, std::path::PathBuf)> = std::fs::read_dir(root.join("generated"))
        .unwrap()
        .map(|e| e.unwrap().path().join("operations.rs"))
        .filter(|p| p.exists())
        .map(|p| ("provider", p))
        .collect();
    generated.sort();
    assert!(!generated.is_empty(), "no generated tables under generated/");
    let graph = scan::read(root, &generated);
    let problems = graph.check(LAYERS);
    assert!(problems.is_empty(), "src/ breaks its layers (tests/layers.rs):\n  {}\n\nits modules' uses:\n{}", problems.join("\n  "), graph.listing());
}

/// The scanner itself, on small sources: what it must see, and what it must not.
#[test]
fn the_scanner_sees_code_and_only_code() {
    let dir = std::env::temp_dir().join(format!("capa-layers-{}", std::process::id()));
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("b")).unwrap();
    let write = |path: &str, text: &str| std::fs::write(src.join(path), text).unwrap();
    write("lib.rs", "pub mod a;\npub mod b;\npub mod c;\npub fn helper() {}\n");
    write(
        "a.rs",
        r##"//! Uses crate::c only in words.
use crate::{b::{X, Y}, c as _};
/* crate::root_thing */
const S: &str = "crate::helper";
const R: &str = r#"crate::helper " still"#;
const Q: char = '"';
fn f<'a>(x: &'a str) -> &'a str { x }
#[cfg(test)]
mod tests { use crate::helper; }
"##,
    );
    write("b/mod.rs", "pub struct X; pub struct Y;\nmod inner;\n");
    write("b/inner.rs", "use super::super::a;\nuse super::X;\n");
    write("c.rs", "pub fn g() { crate :: helper(); }\n#[cfg(test)]\nfn only_in_tests() { crate::a::f(\"\"); }\n");
    let graph = scan::read(&dir, &[]);
    std::fs::remove_dir_all(&dir).unwrap();
    let edges = |from: &str| graph.edges.get(from).map(|e| e.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
    assert_eq!(edges("a"), ["b", "c"], "a group's names; not comments, strings or test items");
    assert_eq!(edges("b"), ["a"], "a `super::` chain that climbs to the root");
    assert_eq!(edges("c"), [scan::ROOT], "an item of the root, spaced; not a #[cfg(test)] fn");
    assert_eq!(graph.seen("c", scan::ROOT).line, 1);
    let cycles = graph.cycles();
    assert_eq!(cycles.len(), 1);
    assert_eq!(cycles[0].1, ["a", "b", "a"]);
    let problems = graph.check(&[("low", &["a", "b"]), ("high", &["c"])]);
    assert!(problems.iter().any(|p| p.contains("import cycle among {a, b}, e.g. a → b → a")), "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("`c` reaches up to the crate root")), "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("`a` (layer 0, low) uses `c` (layer 1, high, above it) at src/a.rs:2")), "{problems:?}");
    let problems = graph.check(&[("low", &["c"]), ("high", &["a", "d"])]);
    assert!(problems.iter().any(|p| p.contains("`b` is in no layer")), "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("layer 1, high names `d`")), "{problems:?}");
}
