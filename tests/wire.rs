//! The wire between the runtime and the generated JS entry: what one side writes positionally,
//! the other must read in the same order.

use capa_rs::receipt::FIELDS;

/// `receiptOf` in the generated entry names the success wire's values in `FIELDS` order.
#[test]
fn entry_names_receipt_values_in_fields_order() {
    for provider in ["stripe", "petstore"] {
        let path = format!("{}/generated/{provider}/entry.js", env!("CARGO_MANIFEST_DIR"));
        let entry = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let start = entry.find("function receiptOf(v) {").unwrap_or_else(|| panic!("{path}: no receiptOf"));
        let literal = &entry[start..start + entry[start..].find('}').unwrap_or(0)];
        let expected: Vec<String> = FIELDS.iter().enumerate().map(|(i, name)| format!("{name}: v[{i}]")).collect();
        let found: Vec<String> = literal
            .split(['{', ','])
            .skip(2)
            .map(|part| part.trim().to_owned())
            .filter(|part| !part.is_empty())
            .collect();
        assert_eq!(found, expected, "{path}");
    }
}
