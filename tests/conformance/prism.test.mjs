// Every operation of the Twitch, Petstore and GitHub specs, called through the built capability
// Workers in workerd, checked by Prism (`@stoplight/prism-cli`), which validates each request
// against the spec and names what breaks it in `sl-violations`. Calls are valid arguments
// synthesized from the spec (tests/conformance/synth.mjs), one at a time so that each request
// Prism saw belongs to its call. A rejection must be a known Prism fault, with the evidence that
// the request is right (tests/conformance/baseline.json); acceptance may not drop below the
// baseline.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { ROOT, startWorkers, tableOf } from "../harness.mjs";
import { Spec, validCall } from "./synth.mjs";
import { baseline, prism, report } from "./validators.mjs";

const PROVIDERS = [
  { provider: "twitch", spec: "openapi/twitch/openapi.json", bindings: { TWITCH_API_KEY: "token123", TWITCH_CLIENT_ID: "client123" } },
  { provider: "petstore", spec: "openapi/petstore/swagger-petstore-3.0.yaml", bindings: { PETSTORE_API_KEY: "special-key" } },
  { provider: "github", spec: "openapi/github/api.github.com.octokit-23.0.2.json", bindings: { GITHUB_TOKEN: "ghp_123" } },
];

function load(file) {
  const text = readFileSync(path.join(ROOT, file), "utf8");
  return file.endsWith(".json") ? JSON.parse(text) : YAML.parse(text);
}

for (const { provider, spec: file, bindings } of PROVIDERS) {
  test(`${provider}: every operation, through the built Worker, accepted by Prism`, async () => {
    const spec = new Spec(load(file));
    const table = tableOf(provider);
    const serverPath = new URL(table.operations[0].server).pathname.replace(/\/$/, "");
    const validator = await prism(path.join(ROOT, file), { serverPath });
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
