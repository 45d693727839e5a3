//! Classes of operation on real specs (generator/src/classes.rs): the rule's counts for Stripe and
//! GitHub, pinned, and the classes of operations whose class a platform relies on.

use std::collections::BTreeMap;

fn classes(provider: &str) -> (BTreeMap<String, Vec<String>>, BTreeMap<String, usize>) {
    let root = capa_gen::repo_root();
    let table = capa_gen::table(&capa_gen::manifest_path(&root, provider)).unwrap();
    let mut of = BTreeMap::new();
    let mut counts = BTreeMap::new();
    for op in table["operations"].as_array().unwrap() {
        let names: Vec<String> = op["classes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
        for n in &names {
            *counts.entry(n.clone()).or_default() += 1;
        }
        of.insert(op["call"].as_str().unwrap().to_owned(), names);
    }
    (of, counts)
}

#[test]
fn stripe_reads_writes_destructive_and_money() {
    let (of, counts) = classes("stripe");
    let want: BTreeMap<String, usize> = [("read", 247), ("write", 286), ("destructive", 55), ("money", 29)].into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    assert_eq!(counts, want);
    for (call, classes) in [
        ("customers.list", &["read"][..]),
        ("customers.create", &["write"]),
        ("customers.del", &["write", "destructive"]),
        ("paymentIntents.cancel", &["write", "destructive"]),
        ("invoices.void", &["write", "destructive"]),
        ("terminal.readers.cancelAction", &["write", "destructive"]),
        ("paymentIntents.capture", &["write", "money"]),
        ("refunds.create", &["write", "money"]),
        ("transfers.reversals.create", &["write", "money"]),
        ("charges.retrieve", &["read"]),
    ] {
        assert_eq!(of[call], classes, "{call}");
    }
}

#[test]
fn github_reads_writes_destructive() {
    let (of, counts) = classes("github");
    let want: BTreeMap<String, usize> = [("read", 639), ("write", 584), ("destructive", 192)].into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    assert_eq!(counts, want);
    assert_eq!(of["repos.delete"], ["write", "destructive"]);
    assert_eq!(of["repos.get"], ["read"]);
}
