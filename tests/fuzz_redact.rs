//! Fuzz target: redaction. Random credentials embedded in random strings, each written by up to
//! two encodings an upstream may apply (`tests/security/echo.rs`: JSON escapes and percent-
//! encoding in any per-character mix, base64 and base64url of the value inside any bytes, padded
//! or not, wrapped in lines or not), as the README's Security section states the guarantee. Each
//! string must be flagged by the entry's rule (as text, and inside a JSON document written with
//! any escapes), found, and gone after redaction — checked by an independent reader that decodes
//! the output two levels deep. `CAPA_FUZZ_SECONDS=600 cargo test --release --test fuzz_redact`
//! runs it for ten minutes (`npm run fuzz`); `npm test` runs a short round.

#[path = "security/echo.rs"]
mod echo;
#[path = "security/fuzz.rs"]
mod fuzz;

use capa_rs::redact::{Redactor, REDACTED};
use echo::{contains, decodings, form, render, Encoding, Form};
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
    /// How the JSON document holding the string escapes it.
    escapes: Vec<u8>,
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
            (Just(secrets), prop::collection::vec(piece, 0..10), prop::collection::vec(any::<u8>(), 1..8))
        })
        .prop_map(|(secrets, pieces, escapes)| Case { secrets, pieces, escapes })
}

#[test]
fn every_form_is_flagged_found_and_redacted() {
    fuzz::run("redact", case(), |case| {
        let mut r = Redactor::default();
        for s in &case.secrets {
            r.add(s);
        }
        // Pieces apart, so that one's end cannot join the next's escape or base64 run (which
        // would make another string, one that may well hold no credential in any view).
        let mut body = String::new();
        let mut embedded: Vec<(String, Form)> = Vec::new();
        for piece in &case.pieces {
            body.push_str(" | ");
            match piece {
                Piece::Filler(text) => body.push_str(text),
                Piece::Embed { secret, form } => {
                    let text = render(&case.secrets[*secret], form);
                    body.push_str(&text);
                    embedded.push((text, form.clone()));
                }
            }
        }
        if !embedded.is_empty() {
            prop_assert!(r.finds_in(&body), "an embedded credential was not found: {embedded:?}");
            // The entry's one look flags it: as a text body, and as a string inside a JSON body.
            prop_assert!(r.flags(&body, false), "the entry's rule passed a text holding a credential: {body:?}");
            let json = format!("{{\"echo\":\"{}\"}}", render(&body, &vec![Encoding::Json(case.escapes.clone())]));
            prop_assert!(r.flags(&json, true), "the entry's rule passed a JSON body holding a credential: {json}");
        }
        let out = r.redact(&body);
        // Failing closed leaves the marker alone, which may itself hold a credential as short as
        // a letter of it.
        if out != REDACTED {
            prop_assert!(!r.finds_in(&out), "redacted text still holds a credential: {out}");
            for (form, _) in &embedded {
                prop_assert!(!out.contains(form.as_str()), "form {form:?} survived: {out}");
            }
            // An independent reader decoding the output finds no distinctive credential.
            let views = decodings(&out);
            for s in case.secrets.iter().filter(|s| s.len() >= 12) {
                for view in &views {
                    prop_assert!(!contains(view, s.as_bytes()), "{s:?} is readable in a decoding of {out:?}");
                }
            }
        }
        Ok(())
    });
}
