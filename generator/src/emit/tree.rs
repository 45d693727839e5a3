//! The resources as a tree: what the JS entry and the TypeScript declaration both walk.

use crate::names::Name;
use heck::ToUpperCamelCase;
use std::collections::BTreeMap;

/// A resource.
#[derive(Debug, Default)]
pub struct Node {
    /// Resource path from the root, e.g. `["customers", "balanceTransactions"]`.
    pub path: Vec<String>,
    /// Sub-resources by name.
    pub children: BTreeMap<String, Node>,
    /// Method name → operation index.
    pub methods: BTreeMap<String, usize>,
}

impl Node {
    /// A class/interface name unique to this node: `Customers_BalanceTransactions`.
    pub fn type_name(&self) -> String {
        let name = self.path.iter().map(|p| p.to_upper_camel_case()).collect::<Vec<_>>().join("_");
        // `_1Clicks` upper-cased is `1Clicks`: no identifier.
        if name.starts_with(|c: char| c.is_ascii_digit()) { format!("_{name}") } else { name }
    }

    /// Every node below this one, depth first, parents before children.
    pub fn descendants(&self) -> Vec<&Node> {
        let mut out = Vec::new();
        for child in self.children.values() {
            out.push(child);
            out.extend(child.descendants());
        }
        out
    }
}

/// The tree of `names`.
pub fn build(names: &[Name]) -> Node {
    let mut root = Node::default();
    for (i, name) in names.iter().enumerate() {
        let mut node = &mut root;
        for part in &name.resource {
            let path = [node.path.clone(), vec![part.clone()]].concat();
            node = node.children.entry(part.clone()).or_insert_with(|| Node { path, ..Node::default() });
        }
        node.methods.insert(name.method.clone(), i);
    }
    root
}
