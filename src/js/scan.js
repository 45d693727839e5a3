// One pass over a response body for any of a call's credential needles.
//
// The runtime sends, with each request, the plain strings at least one of which is inside every
// form of every credential of the call (src/forms.rs, src/redact.rs). The body is scanned here,
// where it already is, so that a body holding none of them never crosses into wasm. One
// `includes` per needle would read a 200 KB body once per needle (half a dozen per key); this
// reads it once for all of them, and skips most of it.
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
