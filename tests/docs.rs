//! docs/contract.md holds the contract's lists as the runtime holds them: every error code in its
//! error table (and no other), every receipt field in its Receipt section (the example naming
//! exactly those, in order), every option key and `options.auth` key in its Arguments section.
//! The rest of the docs checks (paths, links, TypeScript snippets, the README's curl lines) are
//! `tests/docs.test.mjs`.

use capa_rs::args::{AUTH_KEYS, OPTION_KEYS};
use capa_rs::error::Code;
use capa_rs::receipt::FIELDS;

const CONTRACT: &str = include_str!("../docs/contract.md");

/// The lines of the `## <heading>` section of docs/contract.md, up to the next `## ` heading
/// outside a fenced block.
fn section(heading: &str) -> Vec<&'static str> {
    let mut lines = CONTRACT.lines().skip_while(|l| l.trim_end() != format!("## {heading}"));
    assert!(lines.next().is_some(), "docs/contract.md has no `## {heading}` section");
    let mut fenced = false;
    lines
        .take_while(|l| {
            if l.trim_start().starts_with("```") {
                fenced = !fenced;
            }
            fenced || !l.starts_with("## ")
        })
        .collect()
}

/// The code of a section: its fenced blocks, and its inline code spans (which may run across a
/// line break), one text each.
fn code_of(lines: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut prose = String::new();
    let mut block: Option<String> = None;
    for line in lines {
        if line.trim_start().starts_with("```") {
            match block.take() {
                Some(text) => out.push(text),
                None => block = Some(String::new()),
            }
            continue;
        }
        let text = block.as_mut().unwrap_or(&mut prose);
        text.push_str(line);
        text.push('\n');
    }
    out.extend(prose.split('`').skip(1).step_by(2).map(str::to_owned));
    out
}

/// The identifiers (`[A-Za-z_][A-Za-z0-9_]*`) a text holds.
fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
}

/// The stages the generated declarations give `rate_limited` (`stage: "upstream" | …`) are each
/// in the contract's row for it (`stage: "grant"`), and the row names no other.
#[test]
fn the_contract_names_every_stage_of_rate_limited() {
    let dts = include_str!("../generated/stripe/index.d.ts");
    let at = dts.find("code: \"rate_limited\";").expect("index.d.ts declares rate_limited");
    let line = dts[at..].lines().find(|l| l.trim_start().starts_with("stage:")).expect("rate_limited has a stage");
    let declared: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
    let row = section("Error codes").into_iter().find(|l| l.starts_with("| `rate_limited` |")).expect("a rate_limited row");
    let named: Vec<&str> = row.split("stage: \"").skip(1).filter_map(|s| s.split('"').next()).collect();
    for stage in &declared {
        assert!(named.contains(stage), "docs/contract.md's rate_limited row does not name stage {stage:?}");
    }
    for stage in &named {
        assert!(declared.contains(stage), "docs/contract.md's rate_limited row names stage {stage:?}, which index.d.ts does not declare");
    }
}

#[test]
fn the_contract_lists_every_code() {
    let rows: Vec<&str> = section("Error codes")
        .into_iter()
        .filter_map(|l| l.strip_prefix("| `")?.split_once("` |").map(|(code, _)| code))
        .collect();
    let codes: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    let missing: Vec<_> = codes.iter().filter(|c| !rows.contains(c)).collect();
    let unknown: Vec<_> = rows.iter().filter(|r| !codes.contains(r)).collect();
    assert!(missing.is_empty(), "docs/contract.md's error table lacks {missing:?}");
    assert!(unknown.is_empty(), "docs/contract.md's error table lists codes the runtime does not have: {unknown:?}");
}

#[test]
fn the_contract_lists_every_receipt_field() {
    let lines = section("Receipt");
    let code = code_of(&lines);
    let named: Vec<&str> = code.iter().flat_map(|c| identifiers(c)).collect();
    let missing: Vec<_> = FIELDS.iter().filter(|f| !named.contains(f)).collect();
    assert!(missing.is_empty(), "docs/contract.md's Receipt section does not name {missing:?}");
    // Its example receipt (the section's first fenced block) has exactly the fields, in order.
    let example = code.iter().find(|c| c.contains('{')).expect("docs/contract.md's Receipt section has no example");
    // The receipt's own keys: what stands at depth one (a try's keys inside `tries` are not).
    let mut top = String::new();
    let mut depth = 0;
    for c in example.chars() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            _ if depth == 1 => top.push(c),
            _ => {}
        }
        if depth == 1 && c == '{' {
            top.push(',');
        }
    }
    let keys: Vec<&str> = top
        .split([',', '\n'])
        .filter_map(|part| part.trim().split_once(':').map(|(key, _)| key.trim()))
        .filter(|key| identifiers(key).eq([*key]))
        .collect();
    assert_eq!(keys, FIELDS, "docs/contract.md's example receipt against receipt::FIELDS");
}

#[test]
fn the_contract_lists_every_option() {
    let code = code_of(&section("Arguments"));
    let named: Vec<&str> = code.iter().flat_map(|c| identifiers(c)).collect();
    let missing: Vec<_> = OPTION_KEYS.iter().chain(AUTH_KEYS).filter(|k| !named.contains(k)).collect();
    assert!(missing.is_empty(), "docs/contract.md's Arguments section does not name the option key(s) {missing:?}");
}
