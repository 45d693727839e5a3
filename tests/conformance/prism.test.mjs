// Every operation of the Twitch, Petstore and GitHub specs, called through the built capability
// Workers in workerd, checked by Prism (`@stoplight/prism-cli`), which validates each request
// against the spec and names what breaks it in `sl-violations`. Calls are valid arguments
// synthesized from the spec (tests/conformance/synth.mjs), one at a time so that each request
// Prism saw belongs to its call. A rejection must be a known Prism fault, with the evidence that
// the request is right (tests/conformance/baseline.json); acceptance may not drop below the
// baseline.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import YAML from "yaml";
import { ROOT, startWorkers, tableOf } from "../harness.mjs";
import { Spec, validCall } from "./synth.mjs";
import { baseline, prism, report } from "./validators.mjs";

const PROVIDERS = [
  { provider: "twitch", spec: "openapi/twitch/openapi.json", bindings: { TWITCH_API_KEY: "token123", TWITCH_CLIENT_ID: "client123" } },
  { provider: "petstore", spec: "openapi/petstore/swagger-petstore-3.0.yaml", bindings: { PETSTORE_API_KEY: "special-key" } },
  { provider: "github", spec: "openapi/github/api.github.com.octokit-23.0.2.json", bindings: { GITHUB_TOKEN: "ghp_123" } },
  { provider: "oai-petstore", spec: "openapi/oai-petstore/oai-petstore-3.0.yaml", bindings: {} },
  { provider: "oai-petstore-expanded", spec: "openapi/oai-petstore-expanded/oai-petstore-expanded-3.0.yaml", bindings: {} },
  { provider: "oai-tictactoe", spec: "openapi/oai-tictactoe/oai-tictactoe-3.1.yaml", bindings: { TICTACTOE_TOKEN: "token123" } },
  // Prism 5.16 opens a 3.1 `$ref` naming an `$id` as a file and exits: it is handed the spec with
  // each such reference replaced by the local pointer of what it names (`localIds` below).
  { provider: "petstore31", spec: "openapi/petstore31/swagger-petstore-3.1.yaml", bindings: { PETSTORE31_TOKEN: "token123" }, prism: localIds },
];

/** A copy of `doc` for Prism whose `$ref`s to an `$id` (or `$id#anchor`) are local pointers; only
 * references spelled exactly as the `$id` they name, which is what this spec writes. */
function localIds(doc) {
  const ids = new Map();
  const walk = (v, pointer) => {
    if (!v || typeof v !== "object") return;
    if (typeof v.$id === "string") ids.set(v.$id, pointer);
    if (typeof v.$anchor === "string") ids.set(`${[...ids].findLast(([, p]) => pointer.startsWith(p))?.[0] ?? ""}#${v.$anchor}`, pointer);
    for (const [k, x] of Object.entries(v)) walk(x, `${pointer}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`);
  };
  walk(doc, "");
  const copy = structuredClone(doc);
  const rewrite = (v) => {
    if (!v || typeof v !== "object") return;
    if (typeof v.$ref === "string" && ids.has(v.$ref)) v.$ref = `#${ids.get(v.$ref)}`;
    Object.values(v).forEach(rewrite);
  };
  rewrite(copy);
  const file = path.join(mkdtempSync(path.join(tmpdir(), "capa-prism-")), "spec.json");
  writeFileSync(file, JSON.stringify(copy));
  return file;
}

function load(file) {
  const text = readFileSync(path.join(ROOT, file), "utf8");
  return file.endsWith(".json") ? JSON.parse(text) : YAML.parse(text);
}

for (const { provider, spec: file, bindings, prism: prepare } of PROVIDERS) {
  test(`${provider}: every operation, through the built Worker, accepted by Prism`, async () => {
    const spec = new Spec(load(file));
    const table = tableOf(provider);
    const serverPath = new URL(table.operations[0].server).pathname.replace(/\/$/, "");
    const validator = await prism(prepare ? prepare(load(file)) : path.join(ROOT, file), { serverPath });
    const cap = await startWorkers({ provider, bindings: { ...bindings, CAPA_LOOPBACK_ORIGIN: validator.origin } });
    const known = baseline(provider).known;
    const rejected = [];
    let accepted = 0;
    try {
      const byId = new Map(spec.operations().map((o) => [o.id, o]));
      for (const entry of table.operations) {
        const { path: values, params } = validCall(spec, byId.get(entry.id), entry, 0);
        const before = validator.requests.length;
        const [outcome] = await cap.batch([{ call: entry.call, args: params === undefined ? values : [...values, params] }], 1);
        const seen = validator.requests.slice(before);
        const envelope = outcome.value;
        let reason = null;
        if (outcome.thrown) reason = `threw: ${outcome.thrown.message}`;
        else if (!envelope.ok && envelope.receipt.attempts === 0) reason = `the capability refused (${envelope.error.code}): ${envelope.error.message}`;
        else if (seen.length === 0) reason = "no request reached Prism";
        else {
          const last = seen[seen.length - 1];
          if (last.violations.length) reason = `Prism ${last.status}: ${last.violations.map((v) => `${v.location.join(".")}: ${v.message}`).join("; ")}`;
          else if (last.status === 404 || last.status === 405) reason = `Prism ${last.status}: ${last.method} ${last.url.slice(0, 120)} matches no operation`;
        }
        if (reason === null) accepted++;
        else rejected.push({ id: entry.id, call: entry.call, reason, known: entry.id in known });
      }
    } finally {
      await cap.dispose();
      await validator.stop();
    }
    report(provider, { operations: spec.operations().length, generated: table.operations.length, calls: table.operations.length, accepted, rejected });
    const unknown = rejected.filter((r) => !r.known);
    assert.deepEqual(unknown.slice(0, 15).map((r) => `${r.id}: ${r.reason}`), [], `${unknown.length} rejection(s) that are no known Prism fault`);
    assert.ok(accepted >= baseline(provider).operations, `accepted ${accepted}, below the baseline's ${baseline(provider).operations}`);
  });
}
