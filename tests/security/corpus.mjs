// The security suite's corpora (corpus.json, expanded) and its leak detector.
//
// Every workerd suite that touches a credential imports its canaries from here, and checks what
// a caller or a log sees with `findLeaks`. The detector is independent of the runtime's
// redactor (src/redact.rs, src/forms.rs): it decodes what it reads — percent-escapes, JSON
// escapes, and every base64-looking run at every alignment, in both alphabets — and looks for
// the canaries' markers in the result, so a form the redactor does not know is still caught.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const HERE = path.dirname(fileURLToPath(import.meta.url));

function expand(v) {
  if (Array.isArray(v)) return v.map(expand);
  if (v && typeof v === "object") {
    if ("repeat" in v) return v.repeat.repeat(v.times);
    if ("js" in v) return JSON.parse(`"${v.js}"`);
    return Object.fromEntries(Object.entries(v).filter(([k]) => k !== "$comment").map(([k, x]) => [k, expand(x)]));
  }
  return v;
}

export const CORPUS = expand(JSON.parse(readFileSync(path.join(HERE, "corpus.json"), "utf8")));
export const CANARIES = CORPUS.canaries;

// Every credential canary holds this marker, and nothing else a test sends does: finding it in
// any decoded form of anything a caller sees is a leak, whoever's credential it was.
export const CREDENTIAL_MARKER = "CANARY";
// Context values (Stripe-Account) hold this one: never in receipts, the capability's own error
// messages or logs; results and the upstream's own error objects may name them.
export const CONTEXT_MARKER = "CONTEXT";

for (const [name, { kind, values, prefix = "" }] of Object.entries(CANARIES)) {
  const marker = kind === "context" ? CONTEXT_MARKER : CREDENTIAL_MARKER;
  for (const v of [...values, ...(prefix ? [prefix] : [])]) if (!v.includes(marker)) throw new Error(`canary ${name} ${v} lacks ${marker}`);
}

/** A seeded PRNG (mulberry32): the same seed, the same suite. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = {
    next,
    int: (n) => Math.floor(next() * n),
    chance: (p) => next() < p,
    pick: (list) => list[Math.floor(next() * list.length)],
    string: (alphabet, min, max) => {
      let s = "";
      for (let i = min + r.int(max - min + 1); i > 0; i--) s += alphabet[r.int(alphabet.length)];
      return s;
    },
  };
  return r;
}

let serial = 0;
/** A fresh canary of `kind` (its prefix, a serial, random characters that need escaping). */
export function canary(r, kind = "callKey") {
  const { prefix, alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789" } = CANARIES[kind];
  // No space at either end: a header value cannot have one (src/header.rs).
  return `${prefix}${++serial}_${r.string(alphabet, 4, 28)}x`;
}

// ---------------------------------------------------------------------------------------------
// Leak detection.

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const SIX = new Map([...B64].map((c, i) => [c, i]).concat([["+", 62], ["/", 63], ["-", 62], ["_", 63]]));

/** One level of every decoding the detector reads: percent (and `+` as a space), JSON escapes, base64 runs. */
function decodeOnce(text) {
  const out = [];
  if (text.includes("%") || text.includes("+")) {
    const percent = text.replace(/%([0-9a-fA-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
    out.push(percent, percent.replace(/\+/g, " "), text.replace(/\+/g, " ").replace(/%([0-9a-fA-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))));
  }
  if (text.includes("\\")) {
    const simple = { n: "\n", r: "\r", t: "\t", b: "\b", f: "\f", '"': '"', "\\": "\\", "/": "/" };
    out.push(text.replace(/\\u([0-9a-fA-F]{4})|\\(["\\/nrtbf])/g, (_, u, c) => (u ? String.fromCharCode(parseInt(u, 16)) : simple[c])));
  }
  // Runs of base64 characters, either alphabet, line breaks inside them dropped. A run may start
  // anywhere in its stream: decoding from each of its first four characters meets every byte
  // boundary.
  for (const found of text.match(/[A-Za-z0-9+/_\r\n-]{8,}/g) ?? []) {
    const run = found.replace(/[\r\n]/g, "");
    if (run.length < 8) continue;
    for (let start = 0; start < 4; start++) {
      let bits = 0,
        n = 0,
        bytes = "";
      for (let i = start; i < run.length; i++) {
        bits = ((bits << 6) | SIX.get(run[i])) & 0xffffff;
        n += 6;
        if (n >= 8) {
          n -= 8;
          bytes += String.fromCharCode((bits >> n) & 255);
        }
      }
      out.push(bytes);
    }
  }
  return out;
}

/**
 * Every decoding of `text` the detector reads: itself, and up to two levels deep (any two of
 * percent, JSON escapes and base64 composed), as the README's Security section states the
 * guarantee. Written apart from the runtime's own views (src/views.rs), which it checks.
 */
export function decodings(text) {
  const out = [text];
  for (const once of decodeOnce(text)) out.push(once, ...decodeOnce(once));
  return out;
}

/**
 * Windows of known credential values that say a value leaked even where its marker was cut
 * away (a redaction that replaced the head of a value and left its tail): every 12 characters
 * of each value outside its marker, when they are distinctive (6 distinct characters or more).
 */
export function windowsOf(values, into = new Set()) {
  for (const value of values) {
    if (typeof value !== "string") continue;
    for (let i = 0; i + 12 <= value.length; i++) {
      const w = value.slice(i, i + 12);
      if (!w.includes("CANARY") && !w.includes("CONTEXT") && new Set(w).size >= 6) into.add(w);
    }
  }
  return into;
}

function holdsWindow(text, windows) {
  for (let i = 0; i + 12 <= text.length; i++) if (windows.has(text.slice(i, i + 12))) return true;
  return false;
}

/** Whether `text`, in any decoding, holds `marker` (or, given `windows`, a window of a known value). */
export function holdsMarker(text, marker, windows) {
  return decodings(text).some((d) => d.includes(marker) || (windows !== undefined && windows.size !== 0 && holdsWindow(d, windows)));
}

/** Every string inside `value` (object keys too). */
export function strings(value, out = []) {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) out.push(k), strings(v, out);
  return out;
}

/**
 * The leaks in what a caller saw: `envelope` and `logs`. Credential markers may appear nowhere.
 * Context markers may appear in results and in what the provider answered (`error.upstream`,
 * but a withheld body's `contentType`, which the capability derives from a header), and in an
 * `upstream_error`'s message (the provider's own); never in receipts, the capability's own
 * messages or logs. `windows` (windowsOf): pieces of credential values known to the test (what
 * the upstream received, say), which may appear nowhere either.
 */
export function findLeaks(envelope, logs = [], windows = undefined) {
  const leaks = [];
  const check = (where, value, marker, known) => {
    for (const s of strings(value)) if (holdsMarker(s, marker, known)) leaks.push({ where, marker, text: s.slice(0, 300) });
  };
  check("envelope", envelope, CREDENTIAL_MARKER, windows);
  check("logs", logs, CREDENTIAL_MARKER, windows);
  check("logs", logs, CONTEXT_MARKER);
  if (envelope && typeof envelope === "object") {
    check("receipt", envelope.receipt, CONTEXT_MARKER);
    const error = envelope.error;
    if (error?.code) check("error.code", error.code, CONTEXT_MARKER);
    if (error && !["upstream_error", "rate_limited"].includes(error.code)) check("error.message", error.message, CONTEXT_MARKER);
    if (error?.code === "upstream_body_withheld") check("error.upstream", error.upstream, CONTEXT_MARKER);
  }
  return leaks;
}

// ---------------------------------------------------------------------------------------------
// Encodings an upstream echoes a credential in (the issue's list, and the encoders' variants).

export const latin1Base64 = (s) => Buffer.from(s, "latin1").toString("base64");
export const base64url = (s) => latin1Base64(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const strict = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());

/** `[name, form]` for each way an upstream may echo `value`. */
export function echoForms(value) {
  return [
    ["raw", value],
    ["json", JSON.stringify(value).slice(1, -1)],
    ["json-solidus", JSON.stringify(value).slice(1, -1).replace(/\//g, "\\/")],
    ["json-html", JSON.stringify(value).slice(1, -1).replace(/[<>&'=+]/g, (c) => "\\u00" + c.charCodeAt(0).toString(16).padStart(2, "0"))],
    ["percent-upper", strict(value)],
    ["percent-lower", strict(value).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase())],
    ["percent-uri-component", encodeURIComponent(value)],
    ["form", new URLSearchParams({ v: value }).toString().slice(2)],
    ["base64", latin1Base64(value)],
    ["base64url", base64url(value)],
    ["base64-basic", latin1Base64(`${value}:`)],
    ["base64url-basic", base64url(`${value}:`)],
    ["base64-basic-user", latin1Base64(`user:${value}`)],
    ["base64-in-json", latin1Base64(JSON.stringify({ authorization: `Bearer ${value}` }))],
    // Found by the attacker's run of issue 31: what a plain-form scan misses.
    ["percent-every-byte", everyByte(value)],
    ["percent-every-byte-mixed", everyByte(value).replace(/%[0-9A-F]{2}/g, (h, i) => (i % 2 ? h.toLowerCase() : h))],
    ["base64-of-percent", latin1Base64(everyByte(value))],
    ["base64-of-uri-component", latin1Base64(encodeURIComponent(value))],
    ["base64-of-solidus", latin1Base64(JSON.stringify(value).slice(1, -1).replace(/\//g, "\\/"))],
    ["base64-of-base64", latin1Base64(latin1Base64(`user:${value}`))],
    ["percent-of-base64", strict(latin1Base64(value))],
    ["nested-json", JSON.stringify(JSON.stringify({ token: value })).slice(1, -1)],
    ["base64-wrapped", latin1Base64(`-- ${value} --`).replace(/(.{8})/g, "$1\r\n")],
  ];
}

const everyByte = (s) => [...Buffer.from(s, "latin1")].map((b) => "%" + b.toString(16).toUpperCase().padStart(2, "0")).join("");

/**
 * Raw JSON text of a document `{ echo: value }` whose every ASCII letter and digit is written
 * `\u00XX`: it parses to the value itself, so the caller receives it raw.
 */
export function unicodeEscapedJson(value) {
  const escaped = JSON.stringify(value).slice(1, -1).replace(/[A-Za-z0-9]/g, (c) => "\\u00" + c.charCodeAt(0).toString(16).padStart(2, "0"));
  return `{"echo":"${escaped}"}`;
}
