// The entry's one-pass body scan (src/js/scan.js) against a plain search: over random texts and
// needle sets, small alphabets so that needles occur (and nearly occur) often, it must answer
// exactly what `needles.some(n => text.includes(n))` answers. A miss here is a leak.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compile, flagged, holdsAny } from "../../src/js/scan.js";
import { rng } from "./corpus.mjs";

const SEED = Number(process.env.SECURITY_SEED ?? 0x5ca9);
const CASES = Number(process.env.SECURITY_SCAN_CASES ?? 20000);

test(`scan: one pass agrees with includes on ${CASES} random texts and needle sets`, () => {
  const r = rng(SEED);
  const alphabets = ["ab", "abc", "a-_Z", "sk_test_0123456789", "AB\u00e9\u4e2d\ud83d\ude00", "{}\":,[]abcdefghij0123456789"];
  let found = 0;
  for (let c = 0; c < CASES; c++) {
    const alphabet = r.pick(alphabets);
    const text = r.string(alphabet, 0, r.chance(0.1) ? 3000 : 200);
    const needles = Array.from({ length: 1 + r.int(8) }, () => {
      // Often a piece of the text itself, so that true answers are common.
      if (text.length > 2 && r.chance(0.4)) {
        const at = r.int(text.length - 1);
        return text.slice(at, at + 1 + r.int(50));
      }
      return r.string(alphabet, 1, r.chance(0.2) ? 60 : 12);
    }).filter((n) => n.length > 0);
    const want = needles.some((n) => text.includes(n));
    const got = holdsAny(text, compile(needles));
    if (want) found++;
    assert.equal(got, want, `text ${JSON.stringify(text.slice(0, 200))}… needles ${JSON.stringify(needles)}`);
  }
  assert.ok(found > CASES / 10 && found < CASES - CASES / 20, `both answers are exercised (${found} of ${CASES} found)`);
});

test("scan: edge cases", () => {
  assert.equal(holdsAny("anything", compile([])), false);
  assert.equal(holdsAny("", compile(["a"])), false);
  assert.equal(holdsAny("xyz", compile(["z"])), true, "one-character needles");
  assert.equal(holdsAny("ab", compile(["ab"])), true, "needle is the whole text");
  assert.equal(holdsAny("a".repeat(100) + "sk_test_KEY", compile(["sk_test_KEY", "x".repeat(40)])), true, "at the very end");
  assert.equal(holdsAny("sk_test_KEY" + "a".repeat(100), compile(["sk_test_KEY"])), true, "at the very start");
  const long = "Q".repeat(33) + "R";
  assert.equal(holdsAny("..." + long + "...", compile([long, "zz"])), true, "needles longer than the window");
  assert.equal(holdsAny("..." + long.slice(0, 33) + "...", compile([long, "zzzzzzzzzz"])), false);
});

// The entry's whole rule (src/js/scan.js `flagged`: needles, `%`, escapes, `+`, base64 runs read
// from each window's end) against a plain reading of the same rule, character by character.
function plainRule(text, scan, json) {
  const [, run, escapes, ...needles] = scan;
  if (needles.some((n) => text.includes(n)) || text.includes("%")) return true;
  if (escapes.includes("+") && text.includes("+")) return true;
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== "\\") continue;
    if (!json) return true;
    const next = text[i + 1];
    if (next === "\\" || (next === "u" && /^00[0-7]/.test(text.slice(i + 2, i + 5))) || (next !== undefined && next !== "u" && escapes.includes(next))) return true;
    if (next === "\\") i++;
  }
  if (run === 0) return false;
  let standard = 0,
    url = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const both = /[A-Za-z0-9\r\n]/.test(c) || (json && c === "\\" && /[nr]/.test(text[i + 1] ?? ""));
    const std = both || c === "+" || c === "/" || (json && c === "\\" && text[i + 1] === "/");
    const u = both || c === "-" || c === "_";
    standard = std ? standard + 1 : 0;
    url = u ? url + 1 : 0;
    if (standard >= run || url >= run) return true;
  }
  return false;
}

test(`flagged: the one look agrees with a plain reading of its rule on ${CASES} random bodies`, () => {
  const r = rng(SEED + 1);
  const alphabets = ["ab+/_-", "aZ09+/\\n\"%", "{}\":,[]abc\\u0041", "AB\u00e9\\/-_\r\n", "sk_test_0123456789 +%\\\""];
  let flags = 0;
  for (let c = 0; c < CASES; c++) {
    const alphabet = r.pick(alphabets);
    const text = r.string(alphabet, 0, r.chance(0.1) ? 2000 : 120);
    const needles = Array.from({ length: r.int(3) }, () => r.string(alphabet, 3, 12));
    const escapes = r.string('"/nrtbf+', 0, 3);
    const scan = [needles.length, r.pick([0, 2, 5, 9, 30]), escapes, ...needles];
    const json = r.chance(0.5);
    const want = plainRule(text, scan, json);
    if (want) flags++;
    assert.equal(flagged(text, scan, json), want, `text ${JSON.stringify(text.slice(0, 200))} scan ${JSON.stringify(scan)} json ${json}`);
  }
  assert.ok(flags > CASES / 10 && flags < CASES - CASES / 10, `both answers are exercised (${flags} of ${CASES} flagged)`);
});
