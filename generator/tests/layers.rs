//! The generator's modules in layers, and no import cycle among them.
//!
//! As the runtime's (`tests/layers.rs`, which holds the scanner both share): each module of
//! `generator/src/` may use modules of its own layer or of those below, never one above, and
//! no cycle anywhere. The crate root (`lib.rs`) wires the stages together and sits above every
//! layer: no module reaches it. ARCHITECTURE.md quotes [`LAYERS`].

#[path = "../../tests/layers/scan.rs"]
mod scan;

/// The generator's layers, lowest first.
const LAYERS: &[(&str, &[&str])] = &[
    // The inputs as they are, knowing nothing of each other: the checkout's layout, what the
    // runtime's table may hold, the spec as a JSON tree.
    ("inputs", &["repo", "fit", "spec"]),
    // The manifest: its auth schemes as data, and the rest of it.
    ("the manifest", &["schemes", "manifest"]),
    // The stages: which scheme each operation meets, the operations as the runtime needs them,
    // their public names, their classes.
    ("stages", &["security", "model", "names", "classes"]),
    // What is made of them: the deploy-time check (and its reading of the callers' bindings), the lock and spec upgrades, the files, and
    // the scaffold of a new provider's manifest (which reads the stages, as the check does).
    ("outputs", &["callers", "check", "upgrade", "emit", "scaffold"]),
];

#[test]
fn the_generator_keeps_its_layers() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let graph = scan::read(root, &[]);
    let problems = graph.check(LAYERS);
    assert!(problems.is_empty(), "generator/src/ breaks its layers (generator/tests/layers.rs):\n  {}\n\nits modules' uses:\n{}", problems.join("\n  "), graph.listing());
}
