//! Golden files: the generator's output for every shipped provider, byte for byte.
//!
//! `generated/<provider>/` is both what the Worker builds from and the pinned expectation.
//! After a deliberate change, `npm run regen` (or `EXPECTORATE=overwrite cargo test -p capa-gen`)
//! rewrites it; review the diff like code.

#[test]
fn generated_files_match_the_generator() {
    let root = capa_gen::repo_root();
    let providers = capa_gen::providers(&root).expect("openapi/ lists providers");
    assert!(providers.contains(&"stripe".to_owned()) && providers.contains(&"petstore".to_owned()));
    for provider in providers {
        let out = capa_gen::generate(&capa_gen::manifest_path(&root, &provider)).expect("generates");
        for file in &out.files {
            expectorate::assert_contents(root.join("generated").join(&provider).join(file.name), &file.text);
        }
    }
}

#[test]
fn output_is_deterministic() {
    let root = capa_gen::repo_root();
    let path = capa_gen::manifest_path(&root, "petstore");
    let a = capa_gen::generate(&path).unwrap();
    let b = capa_gen::generate(&path).unwrap();
    for (x, y) in a.files.iter().zip(&b.files) {
        assert_eq!(x.text, y.text, "{} differs between two runs", x.name);
    }
}
