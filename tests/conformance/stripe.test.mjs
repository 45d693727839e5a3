// Every operation of Stripe's spec, called through the built capability Worker in workerd, checked
// by stripe-mock: Stripe's own validator, which stripe-node and stripe-go run their test suites
// against, loaded with the very spec3.json the capability is generated from. Each operation is
// called in CONFORMANCE_ROUNDS rounds (default 3) of valid arguments synthesized from the spec
// (tests/conformance/synth.mjs), the optional parameters rotating. The acceptance may not drop
// below the committed baseline, and a rejection must be a known validator fault, with its
// evidence (tests/conformance/baseline.json).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { ROOT, startWorkers, tableOf } from "../harness.mjs";
import { Spec, validCall } from "./synth.mjs";
import { baseline, report, stripeMock } from "./validators.mjs";

const ROUNDS = Number(process.env.CONFORMANCE_ROUNDS ?? 3);
let mock, cap;

before(async () => {
  mock = await stripeMock();
  cap = await startWorkers({ provider: "stripe", bindings: { STRIPE_API_KEY: "sk_test_123", CAPA_LOOPBACK_ORIGIN: mock.origin } });
});
after(async () => {
  await cap?.dispose();
  mock?.stop();
});

test(`stripe: every operation, ${ROUNDS} rounds of valid calls, accepted by stripe-mock`, async () => {
  const spec = new Spec(JSON.parse(readFileSync(path.join(ROOT, "openapi", "stripe", "spec3.json"), "utf8")));
  const table = tableOf("stripe");
  const byId = new Map(spec.operations().map((o) => [o.id, o]));
  const calls = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const entry of table.operations) {
      const { path: values, params } = validCall(spec, byId.get(entry.id), entry, round);
      calls.push({ call: entry.call, id: entry.id, args: params === undefined ? values : [...values, params] });
    }
  }
  const outcomes = await cap.batch(calls, 16);
  const known = baseline("stripe").known;
  const rejected = [];
  let accepted = 0;
  outcomes.forEach((outcome, i) => {
    const envelope = outcome.value;
    if (envelope?.ok) return void accepted++;
    const reason = outcome.thrown
      ? `threw: ${outcome.thrown.message}`
      : envelope.error.code === "upstream_error"
        ? `stripe-mock ${envelope.error.status}: ${envelope.error.message}`
        : `the capability refused (${envelope.error.code}): ${envelope.error.message}`;
    rejected.push({ id: calls[i].id, call: calls[i].call, reason, known: calls[i].id in known });
  });
  report("stripe", { operations: byId.size, generated: table.operations.length, calls: calls.length, accepted, rejected });
  const unknown = rejected.filter((r) => !r.known);
  assert.deepEqual(unknown.slice(0, 10).map((r) => `${r.id}: ${r.reason}`), [], `${unknown.length} rejection(s) that are no known validator fault`);
  // Operations every round of which was accepted.
  const clean = new Set(table.operations.map((o) => o.id));
  for (const r of rejected) clean.delete(r.id);
  const { operations: floor } = baseline("stripe");
  assert.ok(clean.size >= floor, `${clean.size} operations accepted in every round, below the baseline's ${floor}`);
});
