// One implementation of the rights rules: the door's (door/rights.js, which says which
// operations a grant reaches, for search and the tool list) agrees with the runtime's (which
// judges every call) on every operation of Stripe and GitHub, under more than twenty rights
// values, including the ones that must reach nothing (a name that names nothing, a no-break
// space, lists past their bounds, members of the wrong kind). The runtime is asked the only way
// a caller can: a session `withAuth({}, rights)` over the service binding, calling each
// operation with no arguments; the rights are judged before any argument is read
// (src/call/round.rs), so a refusal is `operation_not_allowed` (or the session's
// `invalid_argument` naming its rights), and anything else is an allowed call.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { ROOT, startWorkers, startUpstream } from "./harness.mjs";

const { reach, grantRights } = await import(path.join(ROOT, "door", "rights.js"));

/** Rights values for `doc`: more than twenty, over its own resources and classes. */
function rightsValues(doc) {
  const resources = [...new Set(doc.operations.map((op) => op.name.split(".")[0]))].sort();
  const deep = (doc.operations.find((op) => op.name.split(".").length >= 3) ?? doc.operations[5]).name;
  const [r1, r2, r3] = [resources[0], resources[Math.floor(resources.length / 2)], resources[resources.length - 1]];
  const ops = doc.operations.map((op) => op.name);
  const extra = doc.classes.filter((c) => !["read", "write", "destructive"].includes(c));
  return [
    null,
    {},
    { readOnly: true },
    { readOnly: false },
    { only: ["read"] },
    { only: ["write"] },
    { except: ["destructive"] },
    { only: ["write"], except: ["destructive", ...extra] },
    { only: [`${r1}.*`, `${r2}.*`] },
    { only: `${r1}.*, ${r3}.*` }, // one comma-separated string, as in the vars
    { only: [`${r2}.*`], readOnly: true },
    { only: [ops[0], ops[7], ops[100]] },
    { except: [`${r2}.*`, "destructive"] },
    { only: [deep.split(".").slice(0, 2).join(".") + ".*"] },
    { only: [deep] },
    { only: ["  read  ", " destructive"] }, // ASCII spaces are trimmed
    { only: ["read\u00a0"] }, // a no-break space is not: names nothing, reaches nothing
    { only: ["mony"] },
    { except: [r1] }, // a resource without `.*` names no operation
    { only: [] },
    { only: [".*"] },
    { only: Array.from({ length: 257 }, () => "read") }, // past the bound: nothing
    { only: ["read", "x".repeat(257)] },
    { readOnly: "yes" },
    { only: ["read"], because: "an unknown member" },
    { only: [1] },
    { except: "write,, destructive" },
    grantRights(doc, {}),
    grantRights(doc, { readOnly: false }),
    grantRights(doc, { readOnly: false, only: ["read", "write", "destructive", ...extra] }),
    ...extra.map((c) => ({ only: [c] })),
  ];
}

for (const [provider, secret] of [["stripe", "STRIPE_API_KEY"], ["github", "GITHUB_TOKEN"]]) {
  test(`${provider}: the door's reach and the runtime's verdict agree on every operation`, async () => {
    const doc = JSON.parse(readFileSync(path.join(ROOT, "generated", provider, "door.json"), "utf8"));
    const upstream = await startUpstream();
    const { batch, dispose } = await startWorkers({ provider, bindings: { [secret]: "sk_test_rightsAgreement0000", CAPA_LOOPBACK_ORIGIN: upstream.origin } });
    try {
      const values = rightsValues(doc);
      assert.ok(values.length >= 20);
      let checked = 0;
      for (const rights of values) {
        const js = reach(doc, rights);
        const calls = doc.operations.map((op) => ({ path: [{ call: "withAuth", args: [{}, rights] }, ...op.name.split(".")], args: [] }));
        const out = [];
        for (let i = 0; i < calls.length; i += 400) out.push(...(await batch(calls.slice(i, i + 400), 32)));
        const disagree = [];
        doc.operations.forEach((op, i) => {
          const o = out[i];
          const e = o.value?.error;
          const refused = e?.code === "operation_not_allowed" || (e?.code === "invalid_argument" && /withAuth's (rights|arguments)/.test(e.message));
          if (o.thrown) disagree.push(`${op.name}: threw ${o.thrown.message}`);
          else if (refused === js.has(op.name)) disagree.push(`${op.name}: runtime ${refused ? "refuses" : "allows"}, door ${js.has(op.name) ? "reaches" : "does not reach"} (${e?.code ?? "ok"})`);
          checked++;
        });
        assert.deepEqual(disagree.slice(0, 10), [], `rights ${JSON.stringify(rights)?.slice(0, 200)}`);
      }
      console.log(`${provider}: ${values.length} rights values, ${checked} verdicts agree`);
    } finally {
      await dispose();
      await upstream.close();
    }
  });
}
