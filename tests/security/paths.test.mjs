// Path and query integrity: hostile path values, query and form values and nested keys, sent
// through the built Workers. A path value either is refused (invalid_argument, no request) or
// arrives as exactly one segment that decodes to it; the host never changes; every query and
// form key, decoded the way servers decode them (split on & and =, then percent-decoded),
// belongs to a parameter the operation declares (`name` or `name[...`), and every value decodes
// to what was given. The counts of inputs tried and of escapes are printed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startUpstream, startWorkers } from "../harness.mjs";
import { CANARIES, CORPUS } from "./corpus.mjs";

const SECRET = CANARIES.secret.values[0];
const PATHS = CORPUS.paths.values;
const { values: QUERY_VALUES, keys: QUERY_KEYS } = CORPUS.queryValues;
const tally = { tried: 0, refused: 0, sent: 0, escapes: [] };

let upstream;
before(async () => {
  upstream = await startUpstream();
  upstream.reply = () => ({ status: 200, json: { ok: true } });
});
after(async () => {
  await upstream.close();
  console.log(`paths and queries: ${tally.tried} hostile inputs tried, ${tally.sent} sent (each confined to its slot), ${tally.refused} refused, ${tally.escapes.length} escapes`);
});

const escape = (what) => tally.escapes.push(what);
/** The request each case produced, matched by a marker in its query (requests arrive in any order). */
const byMarker = (requests) => new Map(requests.map((r) => [new URL(r.url, "http://x").searchParams.get("expand[]") ?? r.url, r]));

/** Decoded segments of a raw request path, or null when one does not decode. */
function segments(rawPath) {
  try {
    return rawPath.split("/").map((s) => decodeURIComponent(s));
  } catch {
    return null;
  }
}

test("stripe: hostile path values stay in their segment, or are refused", async () => {
  const cap = await startWorkers({ provider: "stripe", bindings: { STRIPE_API_KEY: SECRET, CAPA_LOOPBACK_ORIGIN: upstream.origin } });
  try {
    upstream.requests.length = 0;
    // One and two path parameters, every hostile value in every position; the marker in the
    // query ties each request to its case.
    const cases = [];
    PATHS.forEach((v, i) => {
      cases.push({ call: "customers.retrieve", args: [v, { expand: [`case${cases.length}`] }], template: ["", "v1", "customers", 0], values: [v] });
      cases.push({ call: "accounts.capabilities.retrieve", args: [v, `cap_${i}`, { expand: [`case${cases.length}`] }], template: ["", "v1", "accounts", 0, "capabilities", 1], values: [v, `cap_${i}`] });
      cases.push({ call: "accounts.capabilities.retrieve", args: [`acct_${i}`, v, { expand: [`case${cases.length}`] }], template: ["", "v1", "accounts", 0, "capabilities", 1], values: [`acct_${i}`, v] });
    });
    const outcomes = await cap.batch(cases, 8);
    const requests = byMarker(upstream.requests.splice(0));
    outcomes.forEach((outcome, i) => {
      const c = cases[i];
      tally.tried++;
      const envelope = outcome.value;
      const request = requests.get(`case${i}`);
      if (!envelope.ok && envelope.error.code === "invalid_argument") {
        tally.refused++;
        if (request) escape(`case ${i} was refused but still sent: ${request.url.slice(0, 100)}`);
        return;
      }
      assert.equal(envelope.ok, true, `case ${i} ${JSON.stringify(c.values).slice(0, 80)}: ${JSON.stringify(envelope.error)}`);
      if (!request) return escape(`case ${i}: no request arrived where it should`);
      tally.sent++;
      const rawPath = request.url.split("?")[0];
      const got = segments(rawPath);
      if (!got || got.length !== c.template.length) return escape(`case ${i}: path ${rawPath.slice(0, 120)} has ${got?.length} segments, not ${c.template.length}`);
      c.template.forEach((part, k) => {
        const want = typeof part === "number" ? String(c.values[part]) : part;
        if (got[k] !== want) escape(`case ${i}: segment ${k} is ${JSON.stringify(got[k]).slice(0, 60)}, not ${JSON.stringify(want).slice(0, 60)}`);
        // Dot segments, raw or encoded, would be resolved by URL parsers.
        if (typeof part === "number" && /^(\.|%2e){1,2}$/i.test(rawPath.split("/")[k])) escape(`case ${i}: a dot segment was sent`);
      });
    });
    assert.deepEqual(tally.escapes, []);
    assert.ok(tally.refused > 0 && tally.sent > 0);
  } finally {
    await cap.dispose();
  }
});

test("stripe: with the deployed origin, no path value changes the host", async () => {
  const hosts = new Set();
  const outboundService = async (request) => {
    const url = new URL(request.url);
    hosts.add(url.host);
    if (!url.pathname.startsWith("/v1/customers/")) escape(`left /v1/customers/: ${url.pathname.slice(0, 100)}`);
    return Response.json({ ok: true });
  };
  const cap = await startWorkers({ provider: "stripe", bindings: { STRIPE_API_KEY: SECRET }, outboundService });
  try {
    const outcomes = await cap.batch(PATHS.map((v) => ({ call: "customers.retrieve", args: [v] })), 8);
    tally.tried += PATHS.length;
    for (const o of outcomes) if (!o.value.ok) assert.equal(o.value.error.code, "invalid_argument");
    assert.deepEqual([...hosts], ["api.stripe.com"]);
    assert.deepEqual(tally.escapes, []);
  } finally {
    await cap.dispose();
  }
});

test("petstore: hostile path values stay in their segment, or are refused", async () => {
  const cap = await startWorkers({ provider: "petstore", bindings: { PETSTORE_API_KEY: SECRET, CAPA_LOOPBACK_ORIGIN: upstream.origin } });
  try {
    for (const v of PATHS) {
      tally.tried++;
      upstream.requests.length = 0;
      const r = await cap.call("pet.retrieve", v);
      if (!r.ok) {
        assert.equal(r.error.code, "invalid_argument", JSON.stringify(r.error));
        tally.refused++;
        if (upstream.requests.length) escape(`pet.retrieve(${JSON.stringify(v).slice(0, 40)}) refused but sent`);
        continue;
      }
      tally.sent++;
      const got = segments(upstream.take().url);
      if (!got || got.length !== 5 || got.slice(0, 4).join("/") !== "/api/v3/pet" || got[4] !== v) escape(`pet.retrieve(${JSON.stringify(v).slice(0, 40)}) → ${JSON.stringify(got)?.slice(0, 120)}`);
    }
    assert.deepEqual(tally.escapes, []);
  } finally {
    await cap.dispose();
  }
});

test("github: hostile values of a multi-segment {path} keep to its segments; a shared segment keeps each to its part", async () => {
  const cap = await startWorkers({ provider: "github", bindings: { GITHUB_TOKEN: SECRET, CAPA_LOOPBACK_ORIGIN: upstream.origin } });
  try {
    for (const v of [...PATHS, ...PATHS.map((p) => `docs/${p}`), ...PATHS.map((p) => `${p}/x`)]) {
      for (const [call, args, prefix, parts] of [
        ["repos.getContent", ["o", "r", v], "/repos/o/r/contents/", (u) => u.split("/")],
        ["repos.compareCommits", ["o", "r", v, "main"], "/repos/o/r/compare/", (u) => u.split("...")],
      ]) {
        tally.tried++;
        upstream.requests.length = 0;
        const r = await cap.call(call, ...args);
        if (!r.ok) {
          assert.equal(r.error.code, "invalid_argument", `${call} ${JSON.stringify(v).slice(0, 40)}: ${JSON.stringify(r.error)}`);
          tally.refused++;
          if (upstream.requests.length) escape(`${call}(${JSON.stringify(v).slice(0, 40)}) refused but sent`);
          continue;
        }
        tally.sent++;
        const url = upstream.take().url.split("?")[0];
        if (!url.startsWith(prefix)) escape(`${call}: ${url.slice(0, 80)} left ${prefix}`);
        const rest = url.slice(prefix.length);
        const decoded = parts(rest).map((p) => decodeURIComponent(p));
        const want = call === "repos.getContent" ? v.split("/") : [v, "main"];
        if (JSON.stringify(decoded) !== JSON.stringify(want)) escape(`${call}(${JSON.stringify(v).slice(0, 40)}) → ${rest.slice(0, 80)}`);
        if (rest.split("/").some((s) => s === "." || s === "..")) escape(`${call}: a dot segment in ${rest.slice(0, 80)}`);
      }
    }
    assert.deepEqual(tally.escapes, []);
  } finally {
    await cap.dispose();
  }
});

/** Keys and values of a query or form body as servers decode them. */
const pairs = (text) => [...new URLSearchParams(text)];

test("stripe: query and form values and nested keys never make a key outside their parameter", async () => {
  const cap = await startWorkers({ provider: "stripe", bindings: { STRIPE_API_KEY: SECRET, CAPA_LOOPBACK_ORIGIN: upstream.origin } });
  try {
    const check = (label, text, declared, expect) => {
      for (const [key, value] of pairs(text)) {
        if (!declared.some((name) => key === name || key.startsWith(`${name}[`))) escape(`${label}: key ${JSON.stringify(key).slice(0, 80)} is outside ${declared}`);
        if (expect && !expect.some(([k, v]) => k === key && v === value)) escape(`${label}: ${JSON.stringify([key, value]).slice(0, 100)} is not what was given`);
      }
    };
    for (const v of QUERY_VALUES) {
      for (const k of QUERY_KEYS) {
        tally.tried++;
        upstream.requests.length = 0;
        // form query (scalar and array), deepObject query (nested keys), form body (nested keys).
        const list = await cap.call("customers.list", { email: v, expand: [v, v], created: { [k]: v } });
        if (!list.ok) {
          assert.equal(list.error.code, "invalid_argument", JSON.stringify(list.error));
          tally.refused++;
          continue;
        }
        tally.sent++;
        const query = upstream.take().url.split("?")[1] ?? "";
        check("customers.list", query, ["email", "expand", "created"], [["email", v], ["expand[]", v], [`created[${k}]`, v]]);
        const created = await cap.call("customers.create", { description: v, metadata: { [k]: v, nested: { [k]: [v] } }, expand: [v] });
        assert.equal(created.ok, true, JSON.stringify(created.error));
        const body = upstream.take().body;
        check("customers.create", body, ["description", "metadata", "expand"], [["description", v], [`metadata[${k}]`, v], [`metadata[nested][${k}][0]`, v], ["expand[0]", v]]);
      }
    }
    // An exploded form parameter given an object would spread its keys into parameters of their
    // own: refused.
    const spread = await cap.call("customers.list", { email: { limit: 100, starting_after: "x" } });
    assert.equal(spread.error?.code, "invalid_argument");
    assert.equal(upstream.requests.length, 0);
    assert.deepEqual(tally.escapes, []);
  } finally {
    await cap.dispose();
  }
});
