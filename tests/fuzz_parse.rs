//! Fuzz target: the hand-written JSON reader (`src/parse.rs`) against serde_json. Random JSON
//! (compact or pretty, with repeated keys and every kind of string), often damaged (a byte
//! dropped, inserted or swapped): both must agree on whether it is JSON, on every value read,
//! and numbers must come back as the very text they were written in. Writing back what was read
//! must give JSON that serde_json reads as the same value.

#[path = "security/fuzz.rs"]
mod fuzz;

use capa_rs::parse::parse;
use capa_rs::value::Value;
use proptest::prelude::*;
use serde_json::Value as Reference;

fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        (-1e15f64..1e15).prop_map(|f| format!("{f}")),
        (any::<i32>(), 0u32..99999, -30i32..30).prop_map(|(i, f, e)| format!("{i}.{f}e{e}")),
        "-?(0|[1-9][0-9]{0,18})(\\.[0-9]{1,17})?([eE][+-]?[0-9]{1,2})?",
    ]
}

fn string_text() -> impl Strategy<Value = String> {
    prop_oneof!["[ -~]{0,12}", "\\PC{0,8}", "[\"\\\\/\u{8}\u{c}\n\r\t\u{1}\u{1f}a]{0,8}"].prop_map(|s| serde_json::to_string(&s).unwrap())
}

/// JSON text, built as text so that numbers keep exactly the spelling chosen for them.
fn json_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![Just("null".to_owned()), Just("true".to_owned()), Just("false".to_owned()), number_text(), string_text()];
    leaf.prop_recursive(5, 40, 5, |inner| {
        prop_oneof![
            (prop::collection::vec(inner.clone(), 0..5), any::<bool>()).prop_map(|(items, pretty)| {
                let sep = if pretty { ", " } else { "," };
                format!("[{}]", items.join(sep))
            }),
            (prop::collection::vec((prop_oneof![string_text(), Just("\"dup\"".to_owned())], inner), 0..5), any::<bool>()).prop_map(|(entries, pretty)| {
                let entries: Vec<String> = entries.into_iter().map(|(k, v)| if pretty { format!("{k} : {v}") } else { format!("{k}:{v}") }).collect();
                format!("{{{}}}", entries.join(if pretty { ",\n " } else { "," }))
            }),
        ]
    })
}

#[derive(Debug, Clone)]
enum Damage {
    None,
    Drop(usize),
    Insert(usize, u8),
    Swap(usize),
    Trail(String),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        3 => Just(Damage::None),
        1 => any::<usize>().prop_map(Damage::Drop),
        1 => (any::<usize>(), prop::sample::select(b"{}[],:\"\\-+.eE0 x\x01".to_vec())).prop_map(|(at, b)| Damage::Insert(at, b)),
        1 => any::<usize>().prop_map(Damage::Swap),
        1 => prop::sample::select(vec![" ", ",", "]", "}", "x", "\n"]).prop_map(|s| Damage::Trail(s.to_owned())),
    ]
}

fn apply(text: &str, damage: &Damage) -> Option<String> {
    let mut bytes = text.as_bytes().to_vec();
    match damage {
        Damage::None => {}
        Damage::Drop(at) if !bytes.is_empty() => {
            bytes.remove(at % bytes.len());
        }
        Damage::Insert(at, b) => bytes.insert(at % (bytes.len() + 1), *b),
        Damage::Swap(at) if bytes.len() > 1 => {
            let i = at % (bytes.len() - 1);
            bytes.swap(i, i + 1);
        }
        Damage::Trail(s) => bytes.extend_from_slice(s.as_bytes()),
        _ => {}
    }
    String::from_utf8(bytes).ok()
}

/// Whether a value read agrees with serde_json's reading; numbers by their exact text.
fn agrees(ours: &Value, theirs: &Reference) -> bool {
    match (ours, theirs) {
        (Value::Null, Reference::Null) => true,
        (Value::Bool(a), Reference::Bool(b)) => a == b,
        (Value::String(a), Reference::String(b)) => a == b,
        // serde_json's float parse may land one unit in the last place off, which is why the
        // reader keeps the text: the text must be the number serde_json read, give or take that.
        (Value::Number(a), Reference::Number(b)) => {
            let exact: f64 = a.as_str().parse().unwrap();
            let theirs = b.as_f64().unwrap();
            exact == theirs || (exact - theirs).abs() <= exact.abs() * 4.0 * f64::EPSILON
        }
        (Value::Array(a), Reference::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| agrees(x, y)),
        (Value::Object(a), Reference::Object(b)) => a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| agrees(v, w))),
        _ => false,
    }
}

/// Numbers serde_json refuses for their size alone (`1e400`) are JSON by the grammar.
fn has_huge_number(text: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c))).any(|t| t.parse::<f64>().is_ok_and(f64::is_infinite))
}

#[test]
fn the_reader_agrees_with_serde_json() {
    fuzz::run("parse", (json_text(), damage()), |(text, damage)| {
        let Some(text) = apply(&text, &damage) else { return Ok(()) };
        let ours = parse(&text);
        let theirs = serde_json::from_str::<Reference>(&text);
        match (&ours, &theirs) {
            (Ok(v), Ok(r)) => {
                prop_assert!(agrees(v, r), "read differently: {text}");
                // Written back, it is JSON again, the same value, numbers spelled as they came.
                let written = v.to_json();
                let again = parse(&written);
                prop_assert_eq!(again.as_ref().ok(), Some(v), "{} → {}", text, written);
                prop_assert!(serde_json::from_str::<Reference>(&written).is_ok(), "{written}");
            }
            (Err(_), Err(_)) => {}
            (Ok(_), Err(e)) if has_huge_number(&text) && e.to_string().contains("out of range") => {}
            (Ok(_), Err(e)) => prop_assert!(false, "we read what serde_json refuses ({e}): {text:?}"),
            (Err(e), Ok(_)) => prop_assert!(false, "we refuse what serde_json reads ({e}): {text:?}"),
        }
        Ok(())
    });
}

/// The one-level split a walk reads unflagged pages with (`parse::shallow`): JSON exactly when
/// the reader says so (lone surrogates aside, which the random strings never write), and each
/// piece it hands on reads as the same value the whole reading holds there.
#[test]
fn the_split_agrees_with_the_reader() {
    use capa_rs::parse::{shallow, Shallow};
    fuzz::run("shallow", (json_text(), damage()), |(text, damage)| {
        let Some(text) = apply(&text, &damage) else { return Ok(()) };
        let whole = parse(&text);
        let split = shallow(&text);
        prop_assert_eq!(whole.is_ok(), split.is_ok(), "{:?}", text);
        match (whole, split) {
            (Ok(Value::Array(values)), Ok(Shallow::Array(items))) => {
                prop_assert_eq!(values.len(), items.len());
                for (value, item) in values.iter().zip(items) {
                    let piece = parse(item).ok();
                    prop_assert_eq!(piece.as_ref(), Some(value), "{}", item);
                }
            }
            (Ok(Value::Object(entries)), Ok(Shallow::Object(members))) => {
                prop_assert_eq!(entries.len(), members.len());
                for ((k, v), (name, raw)) in entries.iter().zip(members) {
                    prop_assert_eq!(k, &name);
                    let piece = parse(raw).ok();
                    prop_assert_eq!(piece.as_ref(), Some(v), "{}", raw);
                }
            }
            (Ok(Value::Array(_) | Value::Object(_)), Ok(other)) => prop_assert!(false, "split as {other:?}: {text}"),
            _ => {}
        }
        Ok(())
    });
}
