//! Classes of operation on real specs (generator/src/classes.rs, the manifests' `[classes]`):
//! each provider's counts, pinned, and by name the operations whose class a platform relies on,
//! those issue 31 found slipping past `except: ["money"]` / `["destructive"]` among them. A
//! change to the rule or to a manifest's patterns moves a count here, to be reviewed.

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

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

fn assert_classes(of: &BTreeMap<String, Vec<String>>, want: &[(&str, &[&str])]) {
    for (call, classes) in want {
        assert_eq!(of.get(*call).unwrap_or_else(|| panic!("no {call}")), classes, "{call}");
    }
}

#[test]
fn stripe_reads_writes_destructive_and_money() {
    let (of, got) = classes("stripe");
    assert_eq!(got, counts(&[("read", 247), ("write", 286), ("destructive", 65), ("money", 67)]));
    assert_classes(
        &of,
        &[
            ("customers.list", &["read"]),
            ("customers.create", &["write"]),
            ("customers.del", &["write", "destructive"]),
            ("paymentIntents.cancel", &["write", "destructive"]),
            ("invoices.void", &["write", "destructive"]),
            ("terminal.readers.cancelAction", &["write", "destructive"]),
            ("paymentIntents.capture", &["write", "money"]),
            ("refunds.create", &["write", "money"]),
            ("transfers.reversals.create", &["write", "money"]),
            ("charges.retrieve", &["read"]),
            // Issue 31: the same act as `subscriptions.create`, and others that charge or commit.
            ("customers.subscriptions.create", &["write", "money"]),
            ("subscriptions.create", &["write", "money"]),
            ("subscriptionItems.create", &["write", "money"]),
            ("quotes.accept", &["write", "money"]),
            ("terminal.readers.processPaymentIntent", &["write", "money"]),
            ("terminal.readers.refundPayment", &["write", "money"]),
            // Found in the review: they charge, commit or open a way out on their own.
            ("subscriptions.update", &["write", "money"]),
            ("subscriptions.del", &["write", "destructive", "money"]),
            ("invoices.finalize", &["write", "money"]),
            ("invoiceitems.create", &["write", "money"]),
            ("customers.update", &["write", "money"]),
            ("paymentIntents.verifyMicrodeposits", &["write", "money"]),
            ("climate.orders.create", &["write", "money"]),
            ("accounts.externalAccounts.create", &["write", "money"]),
            ("issuing.cards.create", &["write", "money"]),
            // Issue 31: verbs that end or undo.
            ("identity.verificationSessions.redact", &["write", "destructive"]),
            ("financialConnections.accounts.disconnect", &["write", "destructive"]),
            ("linkedAccounts.disconnect", &["write", "destructive"]),
            ("issuing.authorizations.decline", &["write", "destructive"]),
            ("paymentMethods.detach", &["write", "destructive"]),
            ("invoices.markUncollectible", &["write", "destructive"]),
            // What money is not: a customer's own act completes these; settings; metadata.
            ("checkout.sessions.create", &["write"]),
            ("paymentLinks.create", &["write"]),
            ("setupIntents.confirm", &["write"]),
            ("invoices.send", &["write"]),
            ("quotes.finalize", &["write"]),
            ("prices.create", &["write"]),
            ("customers.create", &["write"]),
            ("transfers.update", &["write"]),
            ("invoiceitems.del", &["write", "destructive"]),
            ("testHelpers.customers.fundCashBalance", &["write"]),
            // Harmless writes keep their class: `mark` alone, `refresh`, `subscribe`, `reactivate`.
            ("financialConnections.accounts.refresh", &["write"]),
            ("financialConnections.accounts.subscribe", &["write"]),
            ("billing.meters.reactivate", &["write"]),
        ],
    );
}

#[test]
fn github_reads_writes_destructive() {
    let (of, got) = classes("github");
    assert_eq!(got, counts(&[("read", 639), ("write", 584), ("destructive", 209)]));
    assert_classes(
        &of,
        &[
            ("repos.delete", &["write", "destructive"]),
            ("repos.get", &["read"]),
            ("actions.forceCancelWorkflowRun", &["write", "destructive"]),
            ("actions.disableWorkflow", &["write", "destructive"]),
            ("apps.resetToken", &["write", "destructive"]),
            ("apps.suspendInstallation", &["write", "destructive"]),
            ("users.block", &["write", "destructive"]),
            ("orgs.blockUser", &["write", "destructive"]),
            ("issues.lock", &["write", "destructive"]),
            ("pulls.dismissReview", &["write", "destructive"]),
            ("repos.transfer", &["write", "destructive"]),
            ("enterpriseTeamMemberships.bulkRemove", &["write", "destructive"]),
            // Added by the manifest: its name hides that it removes a member.
            ("orgs.convertMemberToOutsideCollaborator", &["write", "destructive"]),
            // Not destructive: they add, restore or resume.
            ("actions.enableWorkflow", &["write"]),
            ("enterpriseTeamMemberships.bulkAdd", &["write"]),
            ("activity.markNotificationsAsRead", &["write"]),
            ("packages.restorePackageForOrg", &["write"]),
            ("pulls.merge", &["write"]),
            ("codespaces.startForAuthenticatedUser", &["write"]),
            ("apps.unsuspendInstallation", &["write", "destructive"]),
        ],
    );
}

#[test]
fn twitch_reads_writes_destructive() {
    let (of, got) = classes("twitch");
    assert_eq!(got, counts(&[("read", 74), ("write", 70), ("destructive", 21)]));
    assert_classes(
        &of,
        &[
            // By operationId: `ban-user`, `end-poll`, `end-prediction`, `block-user`.
            ("moderation.bans.update", &["write", "destructive"]),
            ("polls.update", &["write", "destructive"]),
            ("predictions.update", &["write", "destructive"]),
            ("users.blockUser", &["write", "destructive"]),
            // By the manifest: a RESTRICTED status.
            ("moderation.suspiciousUsers.update", &["write", "destructive"]),
            ("moderation.warnings.create", &["write"]),
            ("chat.messages.create", &["write"]),
        ],
    );
}

#[test]
fn petstore_reads_writes_destructive() {
    let (of, got) = classes("petstore");
    assert_eq!(got, counts(&[("read", 8), ("write", 11), ("destructive", 3)]));
    assert_classes(&of, &[("pet.del", &["write", "destructive"]), ("pet.uploadImage", &["write"]), ("user.logout", &["read"])]);
}

#[test]
fn the_generator_bounds_rights_as_the_runtime_reads_them() {
    // npm run check refuses a var the runtime would refuse; a call the runtime could not name
    // fails the build.
    assert_eq!(capa_gen::check::MAX_ENTRIES, capa_rs::rights::MAX_ENTRIES);
    assert_eq!(capa_gen::classes::MAX_CALL_LEN, capa_rs::rights::MAX_ENTRY_LEN);
}

#[test]
fn the_generator_reads_props_names_as_the_runtime_does() {
    // npm run check refuses a props caller or tenant exactly when the runtime would.
    assert_eq!(capa_gen::callers::MAX_NAME, capa_rs::budget::MAX_NAME);
    let long = "a".repeat(capa_rs::budget::MAX_NAME);
    let longer = "a".repeat(capa_rs::budget::MAX_NAME + 1);
    let mut names = vec!["", "acme", "team-1_a.b:c@d/e", "has space", "semi;colon", "é", "tab\t", "quote\"", "\0", long.as_str(), longer.as_str()];
    let every_byte: Vec<String> = (0u8..128).map(|b| format!("x{}", b as char)).collect();
    names.extend(every_byte.iter().map(String::as_str));
    for name in names {
        assert_eq!(capa_gen::callers::is_name(name), capa_rs::budget::name_fault(name).is_none(), "{name:?}");
    }
}
