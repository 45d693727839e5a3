//! Spec upgrades on real history: Stripe's spec3 for 2023-09-12 (the YAML the spine started
//! from, kept as a fixture) against the 2024-04-10 spec3.json the capability is built from. The
//! counts are what `npm run spec-diff -- stripe openapi/stripe/spec3.json --from
//! tests/fixtures/specs/stripe-spec3.2023-09-12.yaml` prints; a generator change that moves them
//! is a change to review.

use capa_gen::upgrade::{diff, diff_types, render};

#[test]
fn stripe_2023_09_12_to_2024_04_10() {
    let root = capa_gen::repo_root();
    let manifest = capa_gen::manifest_path(&root, "stripe");
    let (_, old, old_types) = capa_gen::methods_of(&manifest, &root.join("tests/fixtures/specs/stripe-spec3.2023-09-12.yaml")).unwrap();
    let (_, new, new_types) = capa_gen::methods_of(&manifest, &root.join("openapi/stripe/spec3.json")).unwrap();
    assert_eq!((old.len(), new.len()), (468, 533));
    let mut d = diff(&old, &new);
    diff_types(&mut d, &old_types, &new_types);
    let text = render("stripe", "2023-09-12", "2024-04-10", &d);
    assert!(text.starts_with("stripe: 2023-09-12 → 2024-04-10\n66 method(s) added, 1 removed, 90 changed (408 parameter change(s))\n"), "{}", &text[..200]);
    assert!(text.contains("types: 165 added, 5 removed, 142 changed (269 field change(s))"));
    // What a reviewer looks for first: what breaks callers, and what is new.
    assert!(text.contains("removed (callers of these break):\n  - issuing.settlements.list  GET /v1/issuing/settlements\n"));
    assert!(text.contains("      + `business_profile.annual_revenue`?: object"));
    // Reading both versions: the diff of a spec with itself is empty.
    let same = diff(&new, &new);
    assert!(same.added.is_empty() && same.removed.is_empty() && same.changed.is_empty());
}
