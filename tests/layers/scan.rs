//! Reads a crate's sources into the graph of its top-level modules, and holds that graph to a
//! declared layering. Shared by the runtime's `tests/layers.rs` and the generator's
//! `generator/tests/layers.rs`, which each write their crate's layers.
//!
//! What counts as an edge: a path `crate::<name>` (or `$crate::<name>`), each name of a group
//! `crate::{<name>::…, <name>, …}`, and a `super::` chain from a submodule file that climbs to
//! the crate root (`super::super::<name>` in `src/a/b.rs`), in code: comments, strings and
//! character literals are blanked first, and so is every item under `#[cfg(test)]` (a module's
//! unit tests may reach anywhere; the code that ships may not). A name that is not a module the
//! root declares is an item of the root itself (`crate::repo_root`): an edge to the root, which
//! sits above every layer and which no module may use.
//!
//! What it does not see: the root's own uses (lib.rs names its modules bare, and may use any);
//! paths that do not start at the crate (`use super::x` within one module, names a glob brought
//! in from a module already counted); an inline module that climbs with `super::` (its depth is
//! taken as its file's); test code under any attribute but exactly `#[cfg(test)]`; macros that
//! build paths from pieces. Neither crate has the last three.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crate root's node: lib.rs's own items (functions, types), which may reach every module.
pub const ROOT: &str = "crate";

/// Where an edge was first seen, for the failure message.
#[derive(Clone, Debug)]
pub struct Seen {
    pub file: String,
    pub line: usize,
}

/// The crate's top-level modules (as lib.rs declares them) and, for each, the modules its
/// shipping code names, with the first place each is named.
pub struct Graph {
    pub modules: BTreeSet<String>,
    pub edges: BTreeMap<String, BTreeMap<String, Seen>>,
}

/// Reads the crate whose root is `src/lib.rs` under `crate_dir`. `extra` adds sources for
/// inline modules whose code lives elsewhere (`provider`, an `include!` of generated files).
pub fn read(crate_dir: &Path, extra: &[(&str, PathBuf)]) -> Graph {
    let src = crate_dir.join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let modules = declared_modules(&without_tests(&code_of(&lib)));
    let mut graph = Graph { modules, edges: BTreeMap::new() };
    let mut files = Vec::new();
    walk(&src, &mut files);
    files.sort();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        if parts == ["main.rs"] {
            continue; // a binary's own crate root: it reaches the library by its name, not `crate::`
        }
        // The file's module path: `lib.rs` is the root, `a.rs` and `a/mod.rs` are `a`,
        // `a/b.rs` is `a::b`.
        let mut path: Vec<String> = parts.iter().map(|p| p.trim_end_matches(".rs").to_string()).collect();
        if path.last().map(String::as_str) == Some("mod") || path == ["lib"] {
            path.pop();
        }
        let from = path.first().cloned().unwrap_or_else(|| ROOT.to_string());
        let text = std::fs::read_to_string(&file).unwrap();
        let shown = format!("{}/{}", src.file_name().unwrap().to_string_lossy(), parts.join("/"));
        graph.add(&from, path.len(), &shown, &text);
    }
    for (module, path) in extra {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        graph.add(module, 1, &path.display().to_string(), &text);
    }
    graph
}

impl Graph {
    fn add(&mut self, from: &str, depth: usize, file: &str, text: &str) {
        let code = without_tests(&code_of(text));
        for (name, offset) in references(&code, depth) {
            let to = if self.modules.contains(&name) { name } else { ROOT.to_string() };
            if to == from {
                continue;
            }
            let line = code[..offset].matches('\n').count() + 1;
            self.edges
                .entry(from.to_string())
                .or_default()
                .entry(to)
                .or_insert(Seen { file: file.to_string(), line });
        }
    }

    pub fn seen(&self, from: &str, to: &str) -> &Seen {
        &self.edges[from][to]
    }

    /// The import cycles: each set of modules that reach each other (a strongly connected
    /// component of two or more), with the shortest cycle through its first module (the first
    /// repeated last).
    pub fn cycles(&self) -> Vec<(BTreeSet<String>, Vec<String>)> {
        let mut out = Vec::new();
        for component in self.components() {
            if component.len() < 2 {
                continue;
            }
            let start = component.iter().next().unwrap().clone();
            let cycle = self.shortest_cycle(&start, &component);
            out.push((component, cycle));
        }
        out
    }

    /// The strongly connected components (Tarjan), as sets of module names.
    fn components(&self) -> Vec<BTreeSet<String>> {
        struct State<'a> {
            graph: &'a Graph,
            index: BTreeMap<String, usize>,
            low: BTreeMap<String, usize>,
            stack: Vec<String>,
            on_stack: BTreeSet<String>,
            out: Vec<BTreeSet<String>>,
        }
        fn visit(s: &mut State, v: &str) {
            let i = s.index.len();
            s.index.insert(v.to_string(), i);
            s.low.insert(v.to_string(), i);
            s.stack.push(v.to_string());
            s.on_stack.insert(v.to_string());
            let next: Vec<String> = s.graph.edges.get(v).map(|e| e.keys().cloned().collect()).unwrap_or_default();
            for w in next {
                if !s.index.contains_key(&w) {
                    visit(s, &w);
                    let low = s.low[v].min(s.low[&w]);
                    s.low.insert(v.to_string(), low);
                } else if s.on_stack.contains(&w) {
                    let low = s.low[v].min(s.index[&w]);
                    s.low.insert(v.to_string(), low);
                }
            }
            if s.low[v] == s.index[v] {
                let mut component = BTreeSet::new();
                loop {
                    let w = s.stack.pop().unwrap();
                    s.on_stack.remove(&w);
                    let done = w == v;
                    component.insert(w);
                    if done {
                        break;
                    }
                }
                s.out.push(component);
            }
        }
        let mut s = State { graph: self, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), on_stack: BTreeSet::new(), out: Vec::new() };
        let mut all: BTreeSet<String> = self.modules.clone();
        all.insert(ROOT.to_string());
        for v in &all {
            if !s.index.contains_key(v) {
                visit(&mut s, v);
            }
        }
        s.out
    }

    fn shortest_cycle(&self, start: &str, within: &BTreeSet<String>) -> Vec<String> {
        // Breadth first from `start`'s successors back to `start`, inside the component.
        let mut came_from: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::new();
        queue.push_back(start.to_string());
        while let Some(v) = queue.pop_front() {
            for w in self.edges.get(&v).into_iter().flat_map(|e| e.keys()) {
                if !within.contains(w) || came_from.contains_key(w) {
                    continue;
                }
                came_from.insert(w.clone(), v.clone());
                if w == start {
                    let mut path = vec![start.to_string()];
                    let mut at = came_from[start].clone();
                    while at != start {
                        path.push(at.clone());
                        at = came_from[&at].clone();
                    }
                    path.push(start.to_string());
                    path.reverse();
                    return path;
                }
                queue.push_back(w.clone());
            }
        }
        unreachable!("a strongly connected component of two or more has a cycle through each member")
    }

    /// Describes a cycle with the place each of its edges is seen.
    pub fn describe(&self, cycle: &[String]) -> String {
        let mut text = cycle.join(" → ");
        for pair in cycle.windows(2) {
            let seen = self.seen(&pair[0], &pair[1]);
            text.push_str(&format!("\n      {} → {}: {}:{}", pair[0], pair[1], seen.file, seen.line));
        }
        text
    }

    /// Holds the graph to `layers` (lowest first; each a name and its modules): every module in
    /// exactly one layer, each reference to a module in its own layer or one below, none to the
    /// crate root, and no cycle. Returns what breaks it.
    pub fn check(&self, layers: &[(&str, &[&str])]) -> Vec<String> {
        let mut problems = Vec::new();
        let mut layer_of: BTreeMap<&str, usize> = BTreeMap::new();
        let name = |i: usize| format!("layer {i}, {}", layers[i].0);
        for (i, (_, modules)) in layers.iter().enumerate() {
            for module in modules.iter() {
                if layer_of.insert(module, i).is_some() {
                    problems.push(format!("`{module}` is in two layers"));
                }
                if !self.modules.contains(*module) {
                    problems.push(format!("{} names `{module}`, which src/lib.rs does not declare", name(i)));
                }
            }
        }
        for module in &self.modules {
            if !layer_of.contains_key(module.as_str()) {
                problems.push(format!("`{module}` is in no layer: add it to the lowest layer whose modules it may use"));
            }
        }
        for (from, tos) in &self.edges {
            for (to, seen) in tos {
                if to == ROOT {
                    problems.push(format!(
                        "`{from}` reaches up to the crate root (`crate::` naming an item of lib.rs) at {}:{}: the root wires the modules, none uses it",
                        seen.file, seen.line
                    ));
                    continue;
                }
                let (Some(&a), Some(&b)) = (layer_of.get(from.as_str()), layer_of.get(to.as_str())) else { continue };
                if b > a {
                    problems.push(format!("`{from}` ({}) uses `{to}` ({}, above it) at {}:{}", name(a), name(b), seen.file, seen.line));
                }
            }
        }
        for (modules, cycle) in self.cycles() {
            let modules: Vec<&str> = modules.iter().map(String::as_str).collect();
            problems.push(format!("import cycle among {{{}}}, e.g. {}", modules.join(", "), self.describe(&cycle)));
        }
        problems
    }

    /// The edges, one line each, for a failure message or a reader.
    pub fn listing(&self) -> String {
        let mut text = String::new();
        for (from, tos) in &self.edges {
            let names: Vec<&str> = tos.keys().map(String::as_str).collect();
            text.push_str(&format!("  {from} → {}\n", names.join(", ")));
        }
        text
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `mod x;`, `pub mod x;`, `pub mod x { … }` at the root.
fn declared_modules(code: &str) -> BTreeSet<String> {
    let words: Vec<&str> = code.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect();
    let mut out = BTreeSet::new();
    for pair in words.windows(2) {
        if pair[0] == "mod" {
            out.insert(pair[1].to_string());
        }
    }
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The text with comments, string literals and character literals blanked (newlines kept, so
/// offsets and line numbers stay those of the file).
fn code_of(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let mut i = 0;
    while i < b.len() {
        let prev_ident = i > 0 && is_ident(b[i - 1]);
        if b[i..].starts_with(b"//") {
            let end = b[i..].iter().position(|&c| c == b'\n').map_or(b.len(), |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            let mut j = i;
            while j < b.len() {
                if b[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if b[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if !prev_ident && (b[i] == b'r' || b[i..].starts_with(b"br")) && {
            let k = if b[i] == b'b' { i + 2 } else { i + 1 };
            let hashes = b[k..].iter().take_while(|&&c| c == b'#').count();
            b.get(k + hashes) == Some(&b'"')
        } {
            // Raw string: r"…", r#"…"#, br"…".
            let k = if b[i] == b'b' { i + 2 } else { i + 1 };
            let hashes = b[k..].iter().take_while(|&&c| c == b'#').count();
            let mut close = vec![b'"'];
            close.extend(std::iter::repeat_n(b'#', hashes));
            let body = k + hashes + 1;
            let end = b[body..].windows(close.len()).position(|w| w == close.as_slice()).map_or(b.len(), |p| body + p + close.len());
            blank(&mut out, i, end);
            i = end;
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut out, i, (j + 1).min(b.len()));
            i = j + 1;
        } else if b[i] == b'\'' {
            // A character literal ('x', '\n', '\u{1F}', b'x'), or a lifetime ('a), left alone.
            if b.get(i + 1) == Some(&b'\\') {
                let mut j = i + 3; // past the escaped character, which may be a quote
                while j < b.len() && b[j] != b'\'' {
                    j += 1;
                }
                blank(&mut out, i, j + 1);
                i = j + 1;
            } else {
                let ch = text[i + 1..].chars().next().map_or(0, char::len_utf8);
                if b.get(i + 1 + ch) == Some(&b'\'') {
                    blank(&mut out, i, i + 2 + ch);
                    i += 2 + ch;
                } else {
                    i += 1;
                }
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8(out).expect("blanking keeps UTF-8: whole characters become spaces")
}

/// The code with every item under `#[cfg(test)]` blanked: the attribute, any attributes after
/// it, and the item up to its `;` or through its braces.
fn without_tests(code: &str) -> String {
    let b = code.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    while let Some(p) = code[i..].find("#[") {
        let start = i + p;
        let end = matching(b, start + 1, b'[', b']');
        let inner: String = code[start + 2..end].chars().filter(|c| !c.is_whitespace()).collect();
        if inner != "cfg(test)" {
            i = end;
            continue;
        }
        // The item: up to the first `;` or through the first brace group, outside () and [].
        let mut j = end + 1;
        let mut depth = 0i32;
        while j < b.len() {
            match b[j] {
                b'(' | b'[' => depth += 1,
                b')' | b']' => depth -= 1,
                b';' if depth == 0 => break,
                b'{' if depth == 0 => {
                    j = matching(b, j, b'{', b'}');
                    break;
                }
                _ => {}
            }
            j += 1;
        }
        for c in &mut out[start..(j + 1).min(b.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
        i = j + 1;
        if i >= b.len() {
            break;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The index of the bracket closing the one at `open`.
fn matching(b: &[u8], open: usize, o: u8, c: u8) -> usize {
    let mut depth = 0;
    for (j, &x) in b.iter().enumerate().skip(open) {
        if x == o {
            depth += 1;
        } else if x == c {
            depth -= 1;
            if depth == 0 {
                return j;
            }
        }
    }
    b.len() - 1
}

/// The top-level names the code reaches through the crate root, each with its offset. `depth`
/// is the file's module depth (1 for `src/a.rs`, 2 for `src/a/b.rs`), for `super::` chains.
fn references(code: &str, depth: usize) -> Vec<(String, usize)> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !is_ident(b[i]) || (i > 0 && is_ident(b[i - 1])) {
            i += 1;
            continue;
        }
        let word_end = i + b[i..].iter().take_while(|&&c| is_ident(c)).count();
        let word = &code[i..word_end];
        let mut after_root = None;
        if word == "crate" {
            after_root = path_sep(b, word_end);
        } else if word == "super" && depth > 0 {
            // Count the chain; a chain as long as the file's depth lands at the root.
            let mut supers = 1;
            let mut at = word_end;
            while let Some(next) = path_sep(b, at) {
                if code[next..].starts_with("super") && !b.get(next + 5).copied().is_some_and(is_ident) {
                    supers += 1;
                    at = next + 5;
                } else {
                    if supers == depth {
                        after_root = Some(next);
                    }
                    break;
                }
            }
        }
        if let Some(at) = after_root {
            names_at(code, at, &mut out);
        }
        i = word_end;
    }
    out
}

/// After `::` (spaces allowed), the offset of what follows it.
fn path_sep(b: &[u8], at: usize) -> Option<usize> {
    let mut j = at;
    while j < b.len() && b[j].is_ascii_whitespace() {
        j += 1;
    }
    if !b[j..].starts_with(b"::") {
        return None;
    }
    j += 2;
    while j < b.len() && b[j].is_ascii_whitespace() {
        j += 1;
    }
    Some(j)
}

/// The first segment of a path at `at`, or each first segment of a `{…}` group there.
fn names_at(code: &str, at: usize, out: &mut Vec<(String, usize)>) {
    let b = code.as_bytes();
    if b.get(at) == Some(&b'{') {
        let close = matching(b, at, b'{', b'}');
        let mut depth = 0;
        let mut expect_name = true;
        let mut j = at + 1;
        while j < close {
            match b[j] {
                b'{' => depth += 1,
                b'}' => depth -= 1,
                b',' if depth == 0 => expect_name = true,
                c if is_ident(c) && expect_name && depth == 0 => {
                    let end = j + b[j..].iter().take_while(|&&c| is_ident(c)).count();
                    out.push((code[j..end].to_string(), j));
                    expect_name = false;
                    j = end;
                    continue;
                }
                _ => {}
            }
            j += 1;
        }
    } else {
        let end = at + b[at..].iter().take_while(|&&c| is_ident(c)).count();
        if end > at {
            out.push((code[at..end].to_string(), at));
        }
    }
}
