// The entry's one-pass body scan (src/js/scan.js) against a plain search: over random texts and
// needle sets, small alphabets so that needles occur (and nearly occur) often, it must answer
// exactly what `needles.some(n => text.includes(n))` answers. A miss here is a leak.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compile, holdsAny } from "../../src/js/scan.js";
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
