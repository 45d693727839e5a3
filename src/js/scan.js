// Whether a response body must cross into wasm to be judged: one look at it, where it already is.
//
// The runtime sends, with each request, its scan list (src/redact.rs: `[k, run, escapes,
// ...needles]`): the call's credential values (the first `k` the deployment's), and what says a
// body may show its caller a credential in a view it decodes (src/views.rs). A body *flags* when
// it holds a needle raw, a `%`, a `\` (in JSON, only an escape that can write a credential's
// character: `\\`, an ASCII `\u00XX`, and the escapes `escapes` lists), a `+` when `escapes`
// holds one, or a base64 run of at least `run` characters of one alphabet. A body that flags
// none of these has nothing a view could decode, so a credential in it would be raw and a
// needle would have found it. Redactor::flags in src/redact.rs is the same rule, in Rust, for
// the native tests; tests/security/scan.test.mjs holds the two to each other.
//
// The needles: one `includes` per needle would read a 200 KB body once per needle; this reads it
// once for all of them, and skips most of it.
//
// Set-Horspool over 2-grams: a window of `m` characters (the shortest needle's length, at most
// 32) slides along the text; the pair of characters at the window's end says how far it may
// slide without passing the end of any needle's first `m` characters. Pairs that end no needle's
// window move it `m - 1`; only a pair that ends one (shift 0) compares the needles in place. The
// table has 4096 buckets; pairs that share a bucket take the smaller shift, which is always safe.
// tests/scan.test.mjs holds it to a plain search over random texts and needles.

const BUCKETS = 4096;
const WINDOW = 32;
const bucket = (text, i) => ((text.charCodeAt(i - 1) << 5) ^ text.charCodeAt(i)) & (BUCKETS - 1);

/** Compiles `needles` (non-empty strings) for `holdsAny`. */
export function compile(needles) {
  let m = WINDOW;
  for (const n of needles) if (n.length < m) m = n.length;
  // With a needle of one character there is no pair to shift on: plain searches.
  if (m < 2 || needles.length === 0) return { m: 0, shift: null, needles };
  const shift = new Uint8Array(BUCKETS).fill(m - 1);
  for (const n of needles) {
    for (let j = 1; j < m; j++) {
      const h = bucket(n, j);
      const s = m - 1 - j;
      if (s < shift[h]) shift[h] = s;
    }
  }
  return { m, shift, needles };
}

/** Whether `text` contains any of the compiled needles. */
export function holdsAny(text, { m, shift, needles }) {
  if (shift === null) {
    for (const n of needles) if (text.includes(n)) return true;
    return false;
  }
  const len = text.length;
  for (let i = m - 1; i < len; ) {
    const s = shift[bucket(text, i)];
    if (s !== 0) {
      i += s;
      continue;
    }
    const at = i - m + 1;
    for (let k = 0; k < needles.length; k++) if (text.startsWith(needles[k], at)) return true;
    i++;
  }
  return false;
}

// The deployment's needles, the same for every call with this env: compiled once and kept. A
// call's own (a per-call key) are compiled for that call alone and never kept.
let shared = { needles: [], compiled: compile([]) };
function scanner(scan) {
  const k = scan[0];
  let same = k === shared.needles.length;
  for (let i = 0; same && i < k; i++) same = scan[i + 3] === shared.needles[i];
  if (!same) {
    const needles = scan.slice(3, k + 3);
    shared = { needles, compiled: compile(needles) };
  }
  return scan.length === k + 3 ? shared.compiled : compile(scan.slice(3));
}

/** Whether `text` flags under the request's scan list `scan` (see above); `json`: it is JSON. */
export function flagged(text, scan, json) {
  if (holdsAny(text, scanner(scan)) || text.indexOf("%") !== -1) return true;
  const escapes = scan[2];
  if (escapes.length !== 0 && escapes.includes("+") && text.indexOf("+") !== -1) return true;
  if (json ? writes(text, escapes) : text.indexOf("\\") !== -1) return true;
  return scan[1] > 0 && longRun(text, scan[1], json);
}

// Whether JSON text holds an escape that can write a credential's character: `\\` (the next level's
// escapes), `\u00XX` for ASCII, or one of `escapes` (`"`, `/`, `n`...: a credential holds it).
function writes(text, escapes) {
  for (let i = text.indexOf("\\"); i !== -1; i = text.indexOf("\\", i + 2)) {
    const next = text.charCodeAt(i + 1);
    if (next === 92 /* \ */) return true;
    if (next === 117 /* u */) {
      if (text.charCodeAt(i + 2) === 48 && text.charCodeAt(i + 3) === 48) {
        const high = text.charCodeAt(i + 4);
        if (high >= 48 && high <= 55) return true;
      }
    } else if (escapes.length !== 0 && escapes.includes(text[i + 1])) return true;
  }
  return false;
}

// Base64 characters: bit 1 the standard alphabet's, bit 2 the URL one's; line breaks both. Over
// every UTF-16 code unit, so a character needs no range check before its lookup.
const ALPHABET = new Uint8Array(65536);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9\n\r]/.test(ch)) ALPHABET[c] = 3;
}
ALPHABET[43] = ALPHABET[47] = 1; // + /
ALPHABET[45] = ALPHABET[95] = 2; // - _

// Whether `text` holds `least` characters in a row of one base64 alphabet (in JSON the escapes
// `\/`, `\n`, `\r` count, as the characters they write). Each window of `least` characters is
// checked from its end backwards; a character that ends both alphabets' runs moves the next
// window past it, so most of a body is never read.
export function longRun(text, least, json) {
  const len = text.length;
  let i = least - 1;
  while (i < len) {
    const stop = i - least;
    let mask = 3;
    let j = i;
    while (j > stop) {
      const c = text.charCodeAt(j);
      let m = ALPHABET[c];
      if (m === 0) {
        if (c !== 92 || !json) break;
        const next = text.charCodeAt(j + 1);
        m = next === 47 ? 1 : next === 110 || next === 114 ? 3 : 0;
        if (m === 0) break;
      }
      mask &= m;
      if (mask === 0) break;
      j--;
    }
    if (j === stop) return true;
    i = j + least;
  }
  return false;
}
