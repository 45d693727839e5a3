//! What `wrangler.toml` says about a capability's callers, checked before deploy (`npm run
//! check`, and every build): the call budget's binding in the capability's environment
//! (`src/budget.rs`), and the `props` of every service binding in the file that calls the
//! capability (`src/grant.rs`; docs/rights.md, "Props"). Either, wrong, would make the deployed
//! Worker refuse every call through that binding or meter nothing, so each fails here first,
//! naming the entry and the fix.

/// The name the capability's Rate Limiting binding must have.
const BUDGET: &str = "CAPA_BUDGET";
/// The most bytes a props `caller` or `tenant` holds (the runtime's `budget::MAX_NAME`).
pub const MAX_NAME: usize = 128;

/// Whether a props `caller` or `tenant` is a name the runtime takes (its `budget::name_fault`,
/// which the generator does not link: generator/tests/classes.rs holds the two equal).
pub fn is_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_NAME && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:@/".contains(&b))
}

/// The errors of `config` (wrangler.toml) for capability `cap`; `names` answers whether a rights
/// pattern names one of its classes or operations.
pub fn check(config: &toml::Table, cap: &str, names: &dyn Fn(&str) -> bool) -> Vec<String> {
    let mut errors = Vec::new();
    if let Some(env) = config.get("env").and_then(|e| e.get(cap)) {
        budget(&mut errors, cap, env);
    }
    let service = format!("capa-{cap}");
    // The top level's `services`, then each environment's.
    let mut places = vec![(String::from("the top level"), config.get("services"))];
    for (name, env) in config.get("env").and_then(toml::Value::as_table).into_iter().flatten() {
        places.push((format!("[env.{name}]"), env.get("services")));
    }
    for (place, services) in places {
        for binding in services.and_then(toml::Value::as_array).into_iter().flatten() {
            if binding.get("service").and_then(toml::Value::as_str) != Some(service.as_str()) {
                continue;
            }
            let Some(props) = binding.get("props") else { continue };
            let name = binding.get("binding").and_then(toml::Value::as_str).unwrap_or("?");
            for fault in props_faults(props, names) {
                errors.push(format!("wrangler.toml's {place} binding `{name}` to {service}: its props {fault}; every call through it would be refused"));
            }
        }
    }
    errors
}

/// The `CAPA_BUDGET` entry of the environment's `ratelimits`, if any: a simple limit of at least
/// one call per 10 or 60 seconds, in a namespace.
fn budget(errors: &mut Vec<String>, cap: &str, env: &toml::Value) {
    for entry in env.get("ratelimits").and_then(toml::Value::as_array).into_iter().flatten() {
        if entry.get("name").and_then(toml::Value::as_str) != Some(BUDGET) {
            continue;
        }
        let simple = entry.get("simple");
        let limit = simple.and_then(|s| s.get("limit")).and_then(toml::Value::as_integer);
        let period = simple.and_then(|s| s.get("period")).and_then(toml::Value::as_integer);
        if !limit.is_some_and(|l| l >= 1) || !matches!(period, Some(10 | 60)) || entry.get("namespace_id").and_then(toml::Value::as_str).is_none() {
            errors.push(format!(
                "wrangler.toml's [[env.{cap}.ratelimits]] {BUDGET} should read: namespace_id = \"<a number of your own>\", simple = {{ limit = <calls, 1 or more>, period = <10 or 60> }}"
            ));
        }
    }
}

/// What is wrong with a binding's props, as the runtime would read them.
fn props_faults(props: &toml::Value, names: &dyn Fn(&str) -> bool) -> Vec<String> {
    let Some(table) = props.as_table() else { return vec![String::from("are no table")] };
    let mut faults = Vec::new();
    for (key, value) in table {
        match key.as_str() {
            "tenant" | "caller" => match value.as_str() {
                None => faults.push(format!("give `{key}` as a string")),
                Some(name) if !is_name(name) => {
                    faults.push(format!("hold a `{key}` that is no name (1 to {MAX_NAME} letters, digits and - _ . : @ /)"))
                }
                Some(_) => {}
            },
            "only" | "except" => {
                let entries: Vec<&str> = match value {
                    toml::Value::String(s) => s.split(',').collect(),
                    toml::Value::Array(items) => items.iter().filter_map(toml::Value::as_str).collect(),
                    _ => {
                        faults.push(format!("give `{key}` as an array of patterns"));
                        continue;
                    }
                };
                for entry in entries.iter().map(|e| e.trim_matches(' ')).filter(|e| !e.is_empty()) {
                    if !names(entry) {
                        faults.push(format!("name `{entry}` in `{key}`, which is no class and no operation"));
                    }
                }
            }
            "readOnly" => {
                if value.as_bool().is_none() {
                    faults.push(String::from("give `readOnly` as true or false"));
                }
            }
            other => faults.push(format!("hold `{other}`, which is not one of only, except, readOnly, caller, tenant")),
        }
    }
    faults
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(toml_text: &str) -> Vec<String> {
        check(&toml_text.parse().unwrap(), "things", &|p| p == "read" || p == "things.list")
    }

    #[test]
    fn props_of_bindings_to_the_capability_are_read_as_the_runtime_reads_them() {
        let ok = r#"
[env.app]
services = [{ binding = "THINGS", service = "capa-things", props = { tenant = "acme", caller = "billing", only = ["read"], readOnly = true } }]
"#;
        assert_eq!(errors(ok), Vec::<String>::new());
        let bad = r#"
services = [{ binding = "T0", service = "capa-things", props = { teant = "acme" } }]
[env.app]
services = [
  { binding = "T1", service = "capa-things", props = { tenant = "acme corp" } },
  { binding = "T2", service = "capa-things", props = { caller = 7, only = ["wirte"] } },
  { binding = "OTHER", service = "capa-others", props = { anything = 1 } },
]
"#;
        let e = errors(bad);
        assert_eq!(e.len(), 4, "{e:#?}");
        assert!(e[0].contains("the top level binding `T0`") && e[0].contains("hold `teant`"), "{}", e[0]);
        assert!(e[1].contains("[env.app] binding `T1`") && e[1].contains("`tenant` that is no name"), "{}", e[1]);
        assert!(e.iter().any(|m| m.contains("give `caller` as a string")), "{e:#?}");
        assert!(e.iter().any(|m| m.contains("name `wirte` in `only`")), "{e:#?}");
    }

    #[test]
    fn the_budget_binding_is_a_simple_limit_of_10_or_60_seconds() {
        let ok = "[env.things]\nratelimits = [{ name = \"CAPA_BUDGET\", namespace_id = \"1001\", simple = { limit = 100, period = 60 } }]\n";
        assert_eq!(errors(ok), Vec::<String>::new());
        for bad in ["limit = 100, period = 30", "limit = 0, period = 60", "period = 60"] {
            let text = format!("[env.things]\nratelimits = [{{ name = \"CAPA_BUDGET\", namespace_id = \"1001\", simple = {{ {bad} }} }}]\n");
            assert_eq!(errors(&text).len(), 1, "{bad}");
        }
        // Another rate limit of the Worker's own is none of this check's business.
        assert_eq!(errors("[env.things]\nratelimits = [{ name = \"MINE\", namespace_id = \"2\", simple = { limit = 0, period = 5 } }]\n"), Vec::<String>::new());
    }
}
