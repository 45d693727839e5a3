//! A PEM private key as WebCrypto imports it: PKCS#8 DER.
//!
//! WebCrypto's `importKey` takes private keys as PKCS#8 only, and the keys providers hand out
//! come in three wrappings: PKCS#8 (`BEGIN PRIVATE KEY`: Google service accounts), PKCS#1
//! (`BEGIN RSA PRIVATE KEY`: GitHub App keys) and SEC1 (`BEGIN EC PRIVATE KEY`: OpenSSL's EC
//! default). The latter two are wrapped here in the PKCS#8 structure (RFC 5208: version 0, the
//! algorithm identifier, the key as an octet string), a few bytes of DER. Nothing is parsed
//! beyond what says which kind of key it is; WebCrypto judges the key itself. Encrypted keys are
//! refused: the Worker has no passphrase.

/// What a key signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Rsa,
    /// An EC key (P-256 for ES256; WebCrypto checks the curve).
    Ec,
}

/// DER of the rsaEncryption OID (1.2.840.113549.1.1.1).
const RSA_ENCRYPTION: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// DER of the id-ecPublicKey OID (1.2.840.10045.2.1).
const EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// DER of the prime256v1 OID (1.2.840.10045.3.1.7).
const PRIME256V1: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// The PKCS#8 DER of `pem`, and its kind; or why it is none the Worker can use: what is wrong
/// with it and what to do, as the end of "the Worker secret X … it <fault>" (each cause has its
/// own words: only a key cut short at a newline is said to be).
pub fn pkcs8(pem: &str) -> Result<(Vec<u8>, KeyKind), &'static str> {
    // A key pasted from a JSON credentials file keeps its `\n` escapes.
    let unescaped;
    let pem = if pem.contains("\\n") {
        unescaped = pem.replace("\\n", "\n");
        unescaped.trim()
    } else {
        pem.trim()
    };
    let label = pem.strip_prefix("-----BEGIN ").and_then(|rest| rest.split_once("-----")).map(|(label, _)| label);
    let Some(label) = label else {
        return Err(if pem.starts_with('{') {
            "is JSON, not a PEM private key: store the `private_key` field's value (`-----BEGIN PRIVATE KEY-----` …), not the whole credentials file"
        } else if pem.contains("-----BEGIN ") {
            "holds text before its `-----BEGIN` line: store the PEM file alone"
        } else {
            "is not a PEM private key (it should begin `-----BEGIN PRIVATE KEY-----`, or `RSA` or `EC PRIVATE KEY`): store the key file itself"
        });
    };
    let end = format!("-----END {label}-----");
    // After `-----BEGIN <label>-----`.
    let body = pem["-----BEGIN ".len() + label.len() + "-----".len()..].trim_end();
    let Some(body) = body.strip_suffix(end.as_str()) else {
        // Nothing after the BEGIN line: the secret kept the first line of a pasted key, as a
        // prompt that reads one line does. The one fault a newline causes.
        return Err(if body.trim().is_empty() {
            "holds only the key's `-----BEGIN` line: the rest was lost at its first newline (a prompt reading one line keeps only that of a pasted key); pipe the file in instead, `wrangler secret put <name> < key.pem`"
        } else {
            "is a PEM block without its matching `-----END` line: the key was cut short or edited; store the whole file"
        });
    };
    // RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: …`): OpenSSL's encrypted PKCS#1
    // and SEC1 keys.
    if body.lines().any(|l| l.trim_start().starts_with("Proc-Type:") && l.contains("ENCRYPTED")) || body.contains("DEK-Info:") {
        return Err(match label {
            "EC PRIVATE KEY" => "is an encrypted EC key (`Proc-Type: 4,ENCRYPTED`) and the Worker has no passphrase: decrypt it (`openssl ec -in key.pem -out plain.pem`) and store that",
            _ => "is an encrypted RSA key (`Proc-Type: 4,ENCRYPTED`) and the Worker has no passphrase: decrypt it (`openssl rsa -in key.pem -out plain.pem`) and store that",
        });
    }
    match label {
        "ENCRYPTED PRIVATE KEY" => {
            return Err("is an encrypted PKCS#8 key (`BEGIN ENCRYPTED PRIVATE KEY`) and the Worker has no passphrase: decrypt it (`openssl pkcs8 -in key.pem -out plain.pem`) and store that")
        }
        "PUBLIC KEY" | "RSA PUBLIC KEY" | "EC PUBLIC KEY" => {
            return Err("is a public key, and a JWT is signed with the private one: store the private key (`BEGIN PRIVATE KEY`) instead")
        }
        "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" | "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => {
            return Err("is a certificate, which holds no private key: store the private key it was issued for (`BEGIN PRIVATE KEY`)")
        }
        "OPENSSH PRIVATE KEY" => {
            return Err("is an OpenSSH key, which WebCrypto cannot import: convert a copy to PKCS#8 (`ssh-keygen -p -m PKCS8 -f key`) and store that")
        }
        "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {}
        _ => return Err("is a PEM block that holds no private key (its label is none of `PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`): store the private key"),
    }
    let der = decode_base64(body).ok_or(
        "has a body that is not base64 (characters other than A-Z, a-z, 0-9, +, / and = between its BEGIN and END lines): store the key file unchanged",
    )?;
    match label {
        "PRIVATE KEY" if contains(&der, RSA_ENCRYPTION) => Ok((der, KeyKind::Rsa)),
        "PRIVATE KEY" if contains(&der, EC_PUBLIC_KEY) => Ok((der, KeyKind::Ec)),
        "PRIVATE KEY" => Err("is a PKCS#8 key of an algorithm other than RSA or EC (Ed25519?): JWTs here are signed with RS256 (RSA) or ES256 (EC P-256); store such a key"),
        "RSA PRIVATE KEY" => Ok((wrap(&[RSA_ENCRYPTION, &[0x05, 0x00]].concat(), &der), KeyKind::Rsa)),
        _ => Ok((wrap(&[EC_PUBLIC_KEY, PRIME256V1].concat(), &der), KeyKind::Ec)),
    }
}

/// PrivateKeyInfo ::= SEQUENCE { version INTEGER 0, algorithm SEQUENCE { ... }, key OCTET STRING }
fn wrap(algorithm: &[u8], key: &[u8]) -> Vec<u8> {
    let mut inner = vec![0x02, 0x01, 0x00];
    der(&mut inner, 0x30, algorithm);
    der(&mut inner, 0x04, key);
    let mut out = Vec::with_capacity(inner.len() + 4);
    der(&mut out, 0x30, &inner);
    out
}

/// Appends a DER element: tag, definite length, contents.
fn der(out: &mut Vec<u8>, tag: u8, contents: &[u8]) {
    out.push(tag);
    let n = contents.len();
    match n {
        0..=0x7f => out.push(n as u8),
        0x80..=0xff => out.extend([0x81, n as u8]),
        0x100..=0xffff => out.extend([0x82, (n >> 8) as u8, n as u8]),
        _ => out.extend([0x83, (n >> 16) as u8, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(contents);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Standard base64, whitespace ignored, padding optional.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut bits, mut n) = (0u32, 0u32);
    for b in text.bytes().filter(|b| !b.is_ascii_whitespace()) {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => continue,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Base64url decoding, for other modules' tests.
#[cfg(test)]
pub fn tests_decode_base64url(text: &str) -> Vec<u8> {
    decode_base64(&text.replace('-', "+").replace('_', "/")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::base64;

    fn pem(label: &str, der: &[u8]) -> String {
        let b64 = base64(der);
        let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
        format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
    }

    #[test]
    fn pkcs1_and_sec1_are_wrapped_pkcs8_passes() {
        let rsa_key = vec![0x30, 0x03, 0x02, 0x01, 0x00];
        let (der, kind) = pkcs8(&pem("RSA PRIVATE KEY", &rsa_key)).unwrap();
        assert_eq!(kind, KeyKind::Rsa);
        let mut expected = vec![0x30, 0x19, 0x02, 0x01, 0x00, 0x30, 0x0d];
        expected.extend(RSA_ENCRYPTION);
        expected.extend([0x05, 0x00, 0x04, 0x05]);
        expected.extend(&rsa_key);
        assert_eq!(der, expected);
        let (again, _) = pkcs8(&pem("PRIVATE KEY", &der)).unwrap();
        assert_eq!(again, der, "PKCS#8 as it is");
        let (ec, kind) = pkcs8(&pem("EC PRIVATE KEY", &[0x30, 0x00])).unwrap();
        assert_eq!(kind, KeyKind::Ec);
        assert!(contains(&ec, PRIME256V1));
        // Long keys take a two-byte length.
        let big = vec![7u8; 1200];
        let (der, _) = pkcs8(&pem("RSA PRIVATE KEY", &big)).unwrap();
        assert_eq!(&der[..2], &[0x30, 0x82]);
        assert_eq!(usize::from(der[2]) << 8 | usize::from(der[3]), der.len() - 4);
    }

    #[test]
    fn each_unusable_key_says_what_is_wrong_and_only_a_lost_newline_mentions_newlines() {
        let rsa = pem("RSA PRIVATE KEY", &[0x30, 0x00]);
        let encrypted_pkcs1 = rsa.replacen("\n", "\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,0123456789ABCDEF0123456789ABCDEF\n\n", 1);
        let encrypted_sec1 = pem("EC PRIVATE KEY", &[0x30, 0x00]).replacen("\n", "\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n", 1);
        let cases: &[(&str, String, &[&str])] = &[
            ("encrypted PKCS#1", encrypted_pkcs1, &["encrypted RSA key", "Proc-Type: 4,ENCRYPTED", "no passphrase", "openssl rsa"]),
            ("encrypted SEC1", encrypted_sec1, &["encrypted EC key", "openssl ec"]),
            ("encrypted PKCS#8", pem("ENCRYPTED PRIVATE KEY", &[1, 2, 3]), &["encrypted PKCS#8 key", "openssl pkcs8"]),
            ("public key", pem("PUBLIC KEY", &[1, 2, 3]), &["is a public key", "private"]),
            ("RSA public key", pem("RSA PUBLIC KEY", &[1, 2, 3]), &["is a public key"]),
            ("certificate", pem("CERTIFICATE", &[1, 2, 3]), &["is a certificate", "holds no private key"]),
            ("OpenSSH", pem("OPENSSH PRIVATE KEY", &[1, 2, 3]), &["OpenSSH", "ssh-keygen -p -m PKCS8"]),
            ("other block", pem("X509 CRL", &[1, 2, 3]), &["holds no private key"]),
            ("bad base64", "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----".to_owned(), &["not base64"]),
            ("Ed25519", pem("PRIVATE KEY", &[0x30, 0x03, 0x06, 0x03, 0x2b, 0x65, 0x70]), &["other than RSA or EC", "RS256", "ES256"]),
            ("no PEM", "sk_live_123".to_owned(), &["not a PEM private key", "-----BEGIN PRIVATE KEY-----"]),
            ("a JSON file", r#"{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----\n..."}"#.to_owned(), &["is JSON", "private_key"]),
            ("text before", format!("key:\n{rsa}"), &["text before"]),
            ("cut short", "-----BEGIN PRIVATE KEY-----\nAAAA\n".to_owned(), &["without its matching `-----END`", "cut short"]),
            ("mismatched END", "-----BEGIN RSA PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----".to_owned(), &["`-----END`"]),
        ];
        for (what, key, words) in cases {
            let fault = pkcs8(key).expect_err(what);
            for word in *words {
                assert!(fault.contains(word), "{what}: {fault:?} lacks {word:?}");
            }
            assert!(!fault.contains("newline"), "{what}: no newline is at fault, and {fault:?} says one is");
        }
        // The one fault a newline causes: a pasted key stored as its first line alone.
        let first_line = pkcs8("-----BEGIN PRIVATE KEY-----").unwrap_err();
        assert!(first_line.contains("only the key's `-----BEGIN` line") && first_line.contains("newline") && first_line.contains("< key.pem"), "{first_line}");
        assert_eq!(pkcs8("-----BEGIN RSA PRIVATE KEY-----\n").unwrap_err(), first_line);
        // Nor does the whole message, unless a control character is the fault.
        let message = |fault| crate::error::CallError::UnsendableSecret { capability: "acme", secret: "ACME_KEY", fault }.to_string();
        assert!(!message(pkcs8(&pem("ENCRYPTED PRIVATE KEY", &[1])).unwrap_err()).contains("newline"));
        assert!(message(crate::header::value_fault("key\n").unwrap()).contains("a trailing newline is the usual cause"));
    }

    #[test]
    fn what_is_no_usable_key_is_named() {
        assert!(pkcs8("sk_live_123").unwrap_err().contains("not a PEM"));
        assert!(pkcs8(&pem("ENCRYPTED PRIVATE KEY", &[1, 2, 3])).unwrap_err().contains("encrypted"));
        assert!(pkcs8(&pem("CERTIFICATE", &[1, 2, 3])).unwrap_err().contains("no private key"));
        assert!(pkcs8("-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----").unwrap_err().contains("base64"));
        assert!(pkcs8("-----BEGIN PRIVATE KEY-----\nAAAA\n").unwrap_err().contains("END"));
        // A one-line secret (newlines lost to `wrangler secret put`) still reads, and so does one
        // with the `\n` escapes of a JSON credentials file.
        let rsa = pem("RSA PRIVATE KEY", &[0x30, 0x00]);
        assert!(pkcs8(&rsa.replace('\n', " ")).is_ok());
        assert!(pkcs8(&rsa.replace('\n', "\\n")).is_ok());
    }
}
