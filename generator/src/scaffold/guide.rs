//! What to do once a provider is built (`capa-gen guide <provider>`, the end of
//! `npm run add-provider`): the secrets to set, the block a caller's `wrangler.toml` needs, where
//! the types are, the methods by class and three calls with the provider's real method names.
//!
//! Everything here is read from what the generator made of the manifest and spec, so the guide
//! cannot name a method or a handle the Worker does not have.

use crate::classes::Classes;
use crate::manifest::Manifest;
use crate::model::{At, Model, Operation};
use crate::names::Name;
use heck::ToUpperCamelCase;
use serde_json::Value;
use std::fmt::Write;

/// The caller's `wrangler.toml` block binding the capability.
pub fn binding_block(manifest: &Manifest) -> String {
    format!("[[services]]\nbinding = \"{}\"\nservice = \"capa-{}\"\n", manifest.binding, manifest.capability)
}

/// An argument's placeholder by its schema.
fn placeholder(schema: &Value, name: &str) -> String {
    match schema.get("type").and_then(Value::as_str) {
        Some("integer" | "number") => "1".into(),
        Some("boolean") => "true".into(),
        Some("array") => "[]".into(),
        Some("object") => "{}".into(),
        _ => format!("\"{name}\""),
    }
}

/// One call, written as a caller writes it.
fn example(binding: &str, op: &Operation, name: &Name) -> String {
    let mut args: Vec<String> = op.path_params.iter().map(|p| format!("\"{p}\"")).collect();
    let mut fields: Vec<String> = op.params.iter().filter(|p| p.required).map(|p| format!("{}: {}", key(&p.name), placeholder(&p.schema, &p.name))).collect();
    if fields.is_empty() {
        if let Some(p) = op.params.iter().find(|p| matches!(p.at, At::Query(_)) && ["limit", "per_page", "page_size", "pageSize", "max_results"].contains(&p.name.as_str())) {
            fields.push(format!("{}: 3", key(&p.name)));
        }
    }
    if !fields.is_empty() {
        args.push(format!("{{ {} }}", fields.join(", ")));
    }
    format!("await env.{binding}.{}({})", name.call(), args.join(", "))
}

fn key(name: &str) -> String {
    if crate::names::is_ident(name) {
        name.to_owned()
    } else {
        format!("{name:?}")
    }
}

/// Up to three operations worth showing: a list, a read of one, a write.
fn examples(model: &Model, names: &[Name]) -> Vec<usize> {
    let ops = &model.operations;
    let mut out = Vec::new();
    let mut pick = |f: &dyn Fn(&Operation, &Name) -> bool| {
        if let Some(i) = (0..ops.len()).find(|&i| !out.contains(&i) && f(&ops[i], &names[i])) {
            out.push(i);
        }
    };
    pick(&|o, n| o.method == "GET" && o.path_params.is_empty() && (o.returns_list || n.method == "list"));
    pick(&|o, _| o.method == "GET" && !o.path_params.is_empty());
    pick(&|o, _| o.method == "POST" || o.method == "PUT" || o.method == "PATCH");
    pick(&|_, _| true);
    pick(&|_, _| true);
    pick(&|_, _| true);
    out.truncate(3);
    out
}

/// The guide.
pub fn render(manifest: &Manifest, model: &Model, names: &[Name], classes: &Classes, handles: &[String]) -> String {
    let cap = &manifest.capability;
    let binding = &manifest.binding;
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "Next steps for {cap} ({} methods):\n", model.operations.len());
    let _ = writeln!(w, "1. Set its credentials, once per deployment (a var works for an id or user name):");
    for h in handles {
        // `HANDLE: command (why)`, as the deploy check words it.
        let command = h.split_once(": ").map_or(h.as_str(), |(_, c)| c);
        match command.split_once(" (") {
            Some((command, why)) => {
                let _ = writeln!(w, "     npx {command}   # {}", why.trim_end_matches(')'));
            }
            None => {
                let _ = writeln!(w, "     npx {command}");
            }
        }
    }
    let _ = writeln!(w, "\n2. Deploy it:  npx wrangler deploy --env {cap}        (try it locally first: npm start -- {cap})");
    let _ = writeln!(w, "\n3. Bind it in a caller's wrangler.toml:\n");
    for line in binding_block(manifest).lines() {
        let _ = writeln!(w, "     {line}");
    }
    let prefix = cap.to_upper_camel_case();
    let _ = writeln!(
        w,
        "\n4. Types: generated/{cap}/index.d.ts (interface Env {{ {binding}: Service<{prefix}Capability> }}); for a caller in its\n   own repository: npm run declare -- {cap} <folder>   (docs/providers.md, \"Callers in their own repositories\")"
    );
    let _ = writeln!(w, "\n5. Methods by class (all of them: npm run methods -- {cap}):");
    for (bit, class) in classes.names.iter().enumerate() {
        let calls: Vec<String> = names.iter().zip(&classes.of).filter(|(_, b)| **b & (1 << bit) != 0).map(|(n, _)| n.call()).collect();
        if calls.is_empty() {
            continue;
        }
        let shown: Vec<&str> = calls.iter().take(8).map(String::as_str).collect();
        let more = if calls.len() > shown.len() { format!(", … ({} more)", calls.len() - shown.len()) } else { String::new() };
        let _ = writeln!(w, "     {class} ({}): {}{more}", calls.len(), shown.join(", "));
    }
    let _ = writeln!(w, "\n6. Call it (every call answers {{ ok, result | error, receipt }}):\n");
    for i in examples(model, names) {
        let _ = writeln!(w, "     {}", example(binding, &model.operations[i], &names[i]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_schema() {
        assert_eq!(placeholder(&serde_json::json!({ "type": "integer" }), "n"), "1");
        assert_eq!(placeholder(&serde_json::json!({ "type": "string" }), "name"), "\"name\"");
        assert_eq!(key("a-b"), "\"a-b\"");
        assert_eq!(key("ab"), "ab");
    }
}
