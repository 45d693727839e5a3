// The header allow-list, exhaustively: every refused name (with every kind of value), every
// allowed name in every spelling with every acceptable value, every refused value and value
// type, every refused apiKey — against the built Workers, with the recording upstream showing
// what was sent. Refusals happen before any upstream request; acceptances put exactly the
// given header on the wire. The counts (refused and accepted, and either by mistake) are printed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startUpstream, startWorkers, tableOf } from "../harness.mjs";
import { CANARIES, CORPUS, findLeaks } from "./corpus.mjs";

const SECRET = CANARIES.secret.values[0];
const { refused: REFUSED_NAMES } = CORPUS.headerNames;
const { refused: REFUSED_VALUES, refusedTypes: REFUSED_TYPES, accepted: ACCEPTED_VALUES } = CORPUS.headerValues;
const tally = { refused: 0, accepted: 0, acceptedByMistake: 0, refusedByMistake: 0 };

let upstream;
before(async () => {
  upstream = await startUpstream();
  upstream.reply = () => ({ status: 200, json: { ok: true } });
});
after(async () => {
  await upstream.close();
  console.log(
    `headers: ${tally.refused} cases refused as they must be, ${tally.accepted} accepted as they must be; ` +
      `${tally.acceptedByMistake} accepted by mistake, ${tally.refusedByMistake} refused by mistake`,
  );
});

/** Runs `cases` ({args, expect: code | "ok", check?}) in one batch and tallies them. */
async function run(cap, call, cases) {
  upstream.requests.length = 0;
  const outcomes = await cap.batch(cases.map((c) => ({ call, args: c.args })), 8);
  const failures = [];
  outcomes.forEach((outcome, i) => {
    const { expect, label } = cases[i];
    const envelope = outcome.value;
    const got = outcome.thrown ? `thrown ${outcome.thrown.message}` : envelope.ok ? "ok" : envelope.error.code;
    if (got === expect) tally[expect === "ok" ? "accepted" : "refused"]++;
    else {
      tally[got === "ok" ? "acceptedByMistake" : "refusedByMistake"]++;
      failures.push(`${label}: expected ${expect}, got ${got} ${JSON.stringify(envelope?.error ?? {})}`);
    }
    if (envelope) assert.deepEqual(findLeaks(envelope), [], label);
    if (expect !== "ok" && envelope) assert.equal(envelope.receipt.attempts, 0, `${label}: refused before any upstream request`);
  });
  assert.deepEqual(failures, []);
  return outcomes;
}

const show = (v) => JSON.stringify(v)?.slice(0, 60);

for (const { provider, secret, call, args } of [
  { provider: "stripe", secret: "STRIPE_API_KEY", call: "customers.retrieve", args: ["cus_1"] },
  { provider: "petstore", secret: "PETSTORE_API_KEY", call: "pet.retrieve", args: [7] },
]) {
  test(`${provider}: per-call headers outside the allow-list are refused, every spelling of every name`, async () => {
    const table = tableOf(provider);
    const cap = await startWorkers({ provider, bindings: { [secret]: SECRET, CAPA_LOOPBACK_ORIGIN: upstream.origin } });
    try {
      const allowed = new Set(table.callHeaders.map((h) => h.toLowerCase()));
      const cases = [];
      for (const name of REFUSED_NAMES) {
        if (allowed.has(name.toLowerCase())) continue;
        for (const value of ["plain", CANARIES.callKey.values[1], 7, null, ""]) {
          cases.push({ args: [...args, { auth: { headers: { [name]: value } } }], expect: "header_not_allowed", label: `${show(name)} = ${show(value)}` });
        }
      }
      // Beside an allowed header, the refused one still refuses the call.
      if (table.callHeaders.length) {
        for (const name of REFUSED_NAMES.slice(0, 10)) {
          cases.push({ args: [...args, { auth: { headers: { [table.callHeaders[0]]: "acct_1", [name]: "x" } } }], expect: "header_not_allowed", label: `${show(name)} beside an allowed one` });
        }
      }
      await run(cap, call, cases);
      assert.equal(upstream.requests.length, 0, "no refused case reached the upstream");
    } finally {
      await cap.dispose();
    }
  });

  test(`${provider}: allowed headers in any case with any acceptable value reach the upstream exactly; bad values and keys are invalid_argument`, async () => {
    const table = tableOf(provider);
    const cap = await startWorkers({ provider, bindings: { [secret]: SECRET, CAPA_LOOPBACK_ORIGIN: upstream.origin } });
    try {
      const ok = [];
      for (const name of table.callHeaders) {
        for (const spelling of [name, name.toLowerCase(), name.toUpperCase()]) {
          for (const value of ACCEPTED_VALUES) ok.push({ args: [...args, { auth: { headers: { [spelling]: value } } }], expect: "ok", label: `${spelling} = ${show(value)}`, name, value });
        }
      }
      for (const key of [...CANARIES.callKey.values, "k", "~!@#$%^&*()_+`-={}|[]\\:\";'<>?,./", "x".repeat(8192)]) {
        ok.push({ args: [...args, { auth: { apiKey: key } }], expect: "ok", label: `apiKey ${show(key)}`, key });
      }
      const outcomes = await run(cap, call, ok);
      const requests = upstream.requests.splice(0);
      assert.equal(requests.length, ok.length);
      // Every accepted case's header is on the wire as given (requests arrive in any order).
      for (const c of ok) {
        if (c.name) assert.ok(requests.some((r) => r.headers[c.name.toLowerCase()] === c.value), `${c.label} reached the upstream as given`);
        if (c.key) assert.ok(requests.some((r) => (r.headers[table.authHeader.toLowerCase()] ?? "").endsWith(c.key)), `${c.label} reached the upstream`);
      }
      assert.ok(outcomes.every((o) => o.value.ok));

      const bad = [];
      for (const name of table.callHeaders) {
        for (const value of [...REFUSED_VALUES, ...REFUSED_TYPES]) bad.push({ args: [...args, { auth: { headers: { [name]: value } } }], expect: "invalid_argument", label: `${name} = ${show(value)}` });
        bad.push({ args: [...args, { auth: { headers: { [name]: "a", [name.toLowerCase()]: "b" } } }], expect: "invalid_argument", label: `${name} twice` });
      }
      for (const key of [...REFUSED_VALUES, ...REFUSED_TYPES]) bad.push({ args: [...args, { auth: { apiKey: key } }], expect: "invalid_argument", label: `apiKey ${show(key)}` });
      for (const auth of [7, "key", [], { apiKey: "k", extra: 1 }, { headers: "x" }, { headers: [] }]) bad.push({ args: [...args, { auth }], expect: "invalid_argument", label: `auth ${show(auth)}` });
      await run(cap, call, bad);
      assert.equal(upstream.requests.length, 0, "no refused value reached the upstream");
    } finally {
      await cap.dispose();
    }
  });
}
