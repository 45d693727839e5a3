//! Fuzz target: redaction. Random credentials embedded in random upstream text in every form the
//! README lists — raw, JSON-escaped (any mix of `\"`, `\u0022`, `\/`, HTML-safe `\u00XX`),
//! percent-encoded (any mix of raw, upper- and lower-case hex, `+` for a space), base64 and
//! base64url, padded or not, of the value inside any bytes (the Basic `user:key` form, a JSON
//! document) — must be found by the scan needles and gone after redaction, checked by decoding
//! the output independently. `CAPA_FUZZ_SECONDS=600 cargo test --release --test fuzz_redact`
//! runs it for ten minutes (`npm run fuzz`); `npm test` runs a short round.

#[path = "security/echo.rs"]
mod echo;
#[path = "security/fuzz.rs"]
mod fuzz;

use capa_rs::forms;
use capa_rs::redact::{Redactor, REDACTED};
use echo::{contains, decodings, form, render, Form};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Piece {
    Filler(String),
    Embed { secret: usize, form: Form },
}

#[derive(Debug, Clone)]
struct Case {
    secrets: Vec<String>,
    pieces: Vec<Piece>,
}

fn secret() -> impl Strategy<Value = String> {
    prop_oneof![
        // Printable ASCII, what a header carries.
        2 => "[ -~]{1,48}",
        // Key-shaped.
        2 => "(sk|rk|ghp|pk)_(test|live)_[A-Za-z0-9]{8,40}",
        // Full of what encoders escape.
        1 => "[A-Za-z0-9\"\\\\/%+&=?# <>'~!;:@\\[\\]{}|^`$*(),]{6,30}",
    ]
}

fn filler() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,40}",
        "[A-Za-z0-9+/=_-]{0,60}",
        "[{}\":,\\[\\]a-z0-9 ]{0,40}",
        "\\PC{0,20}",
        Just(r#"{"id":"cus_1","object":"customer","email":"a@b.c"}"#.to_owned()),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    prop::collection::vec(secret(), 1..4)
        .prop_flat_map(|mut secrets| {
            // Now and then one credential inside another.
            if secrets.len() > 1 && secrets[0].len() > 3 {
                let inner = secrets[0][1..secrets[0].len() - 1].to_owned();
                secrets[1] = inner;
            }
            let lens: Vec<usize> = secrets.iter().map(String::len).collect();
            let piece = (0..secrets.len()).prop_flat_map(move |s| {
                prop_oneof![filler().prop_map(Piece::Filler), form(lens[s]).prop_map(move |form| Piece::Embed { secret: s, form })]
            });
            (Just(secrets), prop::collection::vec(piece, 0..10))
        })
        .prop_map(|(secrets, pieces)| Case { secrets, pieces })
}

#[test]
fn every_listed_form_is_found_and_redacted() {
    fuzz::run("redact", case(), |case| {
        let mut r = Redactor::default();
        for s in &case.secrets {
            r.add(s);
        }
        let mut body = String::new();
        let mut embedded = Vec::new();
        // Textual forms are replaced whole, not just their anchor: what lies on either side of
        // the anchor in the form must not stand beside a marker.
        let mut sides = Vec::new();
        for piece in &case.pieces {
            match piece {
                Piece::Filler(text) => body.push_str(text),
                Piece::Embed { secret, form } => {
                    let secret = &case.secrets[*secret];
                    let text = render(secret, form);
                    if let (Some(anchor), false) = (forms::anchor(secret), matches!(form, Form::Base64 { .. })) {
                        if let Some(at) = text.find(anchor) {
                            let (left, right) = (&text[..at], &text[at + anchor.len()..]);
                            if left.len() >= 4 {
                                sides.push(format!("{left}{REDACTED}"));
                            }
                            if right.len() >= 4 {
                                sides.push(format!("{REDACTED}{right}"));
                            }
                        }
                    }
                    body.push_str(&text);
                    embedded.push(text);
                }
            }
        }
        if !embedded.is_empty() {
            prop_assert!(r.finds_in(&body), "an embedded credential was not found by the scan needles");
        }
        let out = r.redact(&body);
        // Failing closed leaves the marker alone, which may itself hold a credential as short as
        // a letter of it.
        if out != REDACTED {
            prop_assert!(!r.finds_in(&out), "redacted text still holds a scan needle: {out}");
            for form in &embedded {
                prop_assert!(!out.contains(form.as_str()), "form {form:?} survived: {out}");
            }
            for side in &sides {
                prop_assert!(!out.contains(side.as_str()), "only the anchor was replaced ({side:?}): {out}");
            }
            // An independent reader decoding the output finds no distinctive credential.
            for s in case.secrets.iter().filter(|s| s.len() >= 12) {
                for decoded in decodings(&out) {
                    prop_assert!(!contains(&decoded, s.as_bytes()), "{s:?} is readable in a decoding of {out:?}");
                }
            }
        }
        Ok(())
    });
}
