// `npm run add-provider` as a new user runs it: each fixture spec of tests/fixtures/scaffold/
// (one per scheme family, JSON and YAML, our own) is added with the command alone — no hand
// edit — and the Worker it builds is called in workerd over a real service binding, against the
// recording upstream: the credential the scaffold inferred from the spec's securitySchemes is on
// the wire where the spec says, and nowhere a caller or a log sees. Also: the command refuses to
// overwrite a provider, and refuses a plain http:// server that would carry a credential.
//
// The providers are added to this checkout under `scaffold-test-*` names and removed afterwards
// (wrangler.toml restored), whatever the outcome; each build takes a minute or two.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, rmSync, existsSync, mkdtempSync, mkdirSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT, startUpstream, startWorkers } from "./harness.mjs";
import { findLeaks } from "./security/corpus.mjs";

const FIXTURES = path.join(ROOT, "tests/fixtures/scaffold");
const WRANGLER = path.join(ROOT, "wrangler.toml");
const b64 = (s) => Buffer.from(s).toString("base64");

const TOKEN = "tok_CANARYscaffoldbearer000000";
const USER = "AC_CANARYscaffolduser0000";
const PASSWORD = "pw_CANARYscaffoldpass0000";
const HEADER_KEY = "hk_CANARYscaffoldheader000";
const QUERY_KEY = "qk_CANARYscaffoldquery0000";
const COOKIE_KEY = "ck_CANARYscaffoldcookie000";
const CLIENT_ID = "client-CONTEXTscaffold";
const CLIENT_SECRET = "cs_CANARYscaffoldclient000";
const ACCESS = "at_CANARYscaffoldaccess000";

const ADDED = ["scaffold-test-bearer", "scaffold-test-basic", "scaffold-test-keys", "scaffold-test-oauth2", "scaffold-test-http"];

// What `add` appends to wrangler.toml for `name` (generator/src/scaffold/mod.rs).
const block = (name) =>
  `\n\n# Added by \`npm run add-provider\`.\n[env.${name}]\nname = "capa-${name}"\nmain = "generated/${name}/entry.js"\nbuild = { command = "bash scripts/build.sh ${name}" }\n`;

function remove(names) {
  let text = readFileSync(WRANGLER, "utf8");
  for (const name of names) {
    text = text.replace(block(name), "\n");
    for (const dir of [`openapi/${name}`, `generated/${name}`, `dist/${name}`, `build/${name}`, `dist/${name}.build.log`]) rmSync(path.join(ROOT, dir), { recursive: true, force: true });
  }
  writeFileSync(WRANGLER, text.replace(/\n+$/, "\n"));
}

/** Runs the command exactly as documented; its output, or a failure with it. */
function addProvider(...args) {
  const r = spawnSync("npm", ["run", "--silent", "add-provider", "--", ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, INIT_CWD: ROOT } });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

let wranglerBefore, upstream;
const workers = {};
const outputs = {};

// Four builds: more than a test's usual ten minutes on a loaded machine.
async function setup() {
  remove(ADDED); // a run that died before its cleanup
  wranglerBefore = readFileSync(WRANGLER, "utf8");
  upstream = await startUpstream();
  for (const [name, spec] of [
    ["scaffold-test-bearer", "bearer.json"],
    ["scaffold-test-basic", "basic.yaml"],
    ["scaffold-test-keys", "keys.yaml"],
    ["scaffold-test-oauth2", "oauth2.json"],
  ]) {
    const started = Date.now();
    const r = addProvider(name, `tests/fixtures/scaffold/${spec}`);
    outputs[name] = r.out;
    assert.equal(r.status, 0, r.out);
    console.log(`# ${name}: command to built Worker in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const loopback = { CAPA_LOOPBACK_ORIGIN: upstream.origin };
  workers.bearer = await startWorkers({ provider: "scaffold-test-bearer", bindings: { SCAFFOLD_TEST_BEARER_TOKEN: TOKEN, ...loopback } });
  workers.basic = await startWorkers({ provider: "scaffold-test-basic", bindings: { SCAFFOLD_TEST_BASIC_USERNAME: USER, SCAFFOLD_TEST_BASIC_PASSWORD: PASSWORD, ...loopback } });
  workers.keys = await startWorkers({
    provider: "scaffold-test-keys",
    bindings: { SCAFFOLD_TEST_KEYS_API_KEY: HEADER_KEY, SCAFFOLD_TEST_KEYS_QUERY_KEY: QUERY_KEY, SCAFFOLD_TEST_KEYS_SESSION: COOKIE_KEY, ...loopback },
  });
  workers.oauth2 = await startWorkers({ provider: "scaffold-test-oauth2", bindings: { SCAFFOLD_TEST_OAUTH2_CLIENT_ID: CLIENT_ID, SCAFFOLD_TEST_OAUTH2_CLIENT_SECRET: CLIENT_SECRET, ...loopback } });
}
before(setup, { timeout: 1_800_000 });

after(async () => {
  try {
    for (const w of Object.values(workers)) {
      assert.deepEqual(findLeaks(null, w.logs), []);
      await w.dispose();
    }
    await upstream?.close();
  } finally {
    remove(ADDED);
    if (wranglerBefore !== undefined) writeFileSync(WRANGLER, wranglerBefore);
  }
});

async function call(w, dotted, ...args) {
  upstream.requests.length = 0;
  const envelope = await w.call(dotted, ...args);
  assert.deepEqual(findLeaks(envelope), [], dotted);
  assert.equal(envelope.ok, true, `${dotted}: ${JSON.stringify(envelope.error)}`);
  return envelope;
}

test("bearer (JSON): the token as Authorization: Bearer; bearerFormat JWT flagged, never scheme jwt; request id and error object read", async () => {
  const out = outputs["scaffold-test-bearer"];
  assert.match(out, /inferred: \[auth\]: bearer from the spec's `bearerAuth` \(secret SCAFFOLD_TEST_BEARER_TOKEN\)/);
  assert.match(out, /bearerFormat: JWT/);
  assert.match(out, /locked openapi\/scaffold-test-bearer\/bearer\.json: 5 method\(s\)/);
  assert.doesNotMatch(out, /0 method\(s\) added/);
  assert.match(out, /deploy check: ok/);
  assert.match(out, /npx wrangler secret put SCAFFOLD_TEST_BEARER_TOKEN --env scaffold-test-bearer/);
  assert.match(out, /binding = "SCAFFOLD_TEST_BEARER"\n\s+service = "capa-scaffold-test-bearer"/);
  assert.match(out, /await env\.SCAFFOLD_TEST_BEARER\.notes\.list\(\{ limit: 3 \}\)/);
  const manifest = readFileSync(path.join(ROOT, "openapi/scaffold-test-bearer/capa.toml"), "utf8");
  assert.doesNotMatch(manifest, /^\s*scheme = "jwt"/m);
  assert.match(manifest, /request_id_header = "X-Request-Id"/);
  assert.match(manifest, /error_object = "error"/);

  upstream.reply = () => ({ status: 200, headers: { "x-request-id": "req_42" }, json: { data: [] } });
  const r = await call(workers.bearer, "notes.list", { limit: 3 });
  const req = upstream.take();
  assert.equal(req.url, "/v2/notes?limit=3");
  assert.equal(req.headers.authorization, `Bearer ${TOKEN}`);
  assert.equal(r.receipt.requestId, "req_42");
  await call(workers.bearer, "status.retrieve");
  assert.equal(upstream.take().headers.authorization, undefined, "security: [] sends nothing");
});

test("basic (YAML): the user name and password handles as Authorization: Basic", async () => {
  assert.match(outputs["scaffold-test-basic"], /username = "SCAFFOLD_TEST_BASIC_USERNAME"/);
  upstream.reply = () => ({ status: 200, json: { sid: "SM1" } });
  await call(workers.basic, "messages.retrieve", "SM1");
  const req = upstream.take();
  assert.equal(req.url, "/2010-04-01/Messages/SM1.json");
  assert.equal(req.headers.authorization, `Basic ${b64(`${USER}:${PASSWORD}`)}`);
});

test("API keys (YAML 3.1): a header for most operations, the query and a cookie for the ones naming them; flags written", async () => {
  const out = outputs["scaffold-test-keys"];
  assert.match(out, /\[auth\.schemes\.queryKey\]: query/);
  assert.match(out, /\[auth\.schemes\.session\]: cookie/);
  assert.match(out, /`browser` is a flow through a browser/);
  assert.match(out, /flag: the credential `X-Weather-Key` \(header\) is declared as a parameter/);
  // The soft-error shape is written as the rule, and the Worker holds answers to it.
  assert.match(out, /inferred: upstream\.soft_error: `ok` false means failure, the message in `error` \(2 operation\(s\)\)/);
  upstream.reply = () => ({ status: 200, json: { ok: false, error: "city_not_found" } });
  const soft = await workers.keys.call("forecasts.list", { city: "Atlantis" });
  assert.deepEqual([soft.ok, soft.error?.code, soft.error?.status, soft.error?.message, soft.receipt.verdict], [false, "upstream_error", 200, "city_not_found", "fail"]);
  upstream.reply = () => ({ status: 200, json: { ok: true } });

  await call(workers.keys, "forecasts.list", { city: "Oslo" });
  let req = upstream.take();
  assert.equal(req.url, "/forecasts?city=Oslo");
  assert.equal(req.headers["x-weather-key"], HEADER_KEY);
  assert.equal(req.headers.cookie, undefined);

  await call(workers.keys, "exports.retrieve", "2026-12-01");
  req = upstream.take();
  assert.equal(req.url, `/exports/2026-12-01?export_key=${QUERY_KEY}`);
  assert.equal(req.headers["x-weather-key"], undefined);

  await call(workers.keys, "dashboard.retrieve");
  req = upstream.take();
  assert.equal(req.headers.cookie, `wx_session=${COOKIE_KEY}`);
  assert.equal(req.headers["x-weather-key"], undefined);
});

test("OAuth2 client credentials (JSON): the token exchange at the spec's token URL, then the bearer token", async () => {
  assert.match(outputs["scaffold-test-oauth2"], /oauth2 from the spec's `machine`.*client_id = "SCAFFOLD_TEST_OAUTH2_CLIENT_ID", scopes = \["entries:read", "entries:write"\]/);
  assert.match(outputs["scaffold-test-oauth2"], /`webLogin` is a flow through a browser/);
  upstream.reply = (req) =>
    req.url === "/oauth/token" ? { status: 200, json: { access_token: ACCESS, token_type: "Bearer", expires_in: 3600 } } : { status: 200, json: { data: [] } };
  await call(workers.oauth2, "entries.list", { limit: 2 });
  const [token, api] = upstream.requests.splice(0);
  assert.equal(token.url, "/oauth/token");
  assert.equal(token.headers.authorization, `Basic ${b64(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`)}`);
  const form = new URLSearchParams(token.body);
  assert.equal(form.get("grant_type"), "client_credentials");
  assert.equal(form.get("scope"), "entries:read entries:write");
  assert.equal(api.url, "/v1/entries?limit=2");
  assert.equal(api.headers.authorization, `Bearer ${ACCESS}`);
});

test("refusals: an existing provider unless --force; a plain http:// server carrying a credential, naming the fix", () => {
  const manifest = path.join(ROOT, "openapi/scaffold-test-basic/capa.toml");
  const written = readFileSync(manifest, "utf8");
  const again = addProvider("scaffold-test-basic", "tests/fixtures/scaffold/keys.yaml");
  assert.notEqual(again.status, 0);
  assert.match(again.out, /exists: provider scaffold-test-basic is there already \(add --force/);
  assert.equal(readFileSync(manifest, "utf8"), written, "untouched");
  assert.equal(existsSync(path.join(ROOT, "openapi/scaffold-test-basic/keys.yaml")), false);

  const http = addProvider("scaffold-test-http", "tests/fixtures/scaffold/plain-http.yaml");
  assert.notEqual(http.status, 0);
  assert.match(http.out, /http:\/\/legacy\.example\.com\/api is plain http:\/\/: the credential would travel in the clear/);
  assert.match(http.out, /correct the spec's `servers` \(https:\/\/…\)/);
  assert.match(http.out, /--allow-http/);
  assert.equal(existsSync(path.join(ROOT, "openapi/scaffold-test-http")), false, "nothing written");
  assert.equal(readFileSync(WRANGLER, "utf8").includes("[env.scaffold-test-http]"), false);
});

test("a caller in its own repository: `npm run declare` writes one self-contained .d.ts a caller type-checks against, outside this tree", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "capa-caller-"));
  try {
    const r = spawnSync("npm", ["run", "--silent", "declare", "--", "scaffold-test-bearer", path.join(dir, "src/types")], { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '[[services]]\nbinding = "SCAFFOLD_TEST_BEARER"\nservice = "capa-scaffold-test-bearer"\n');
    const dts = readFileSync(path.join(dir, "src/types/scaffold-test-bearer.d.ts"), "utf8");
    assert.match(dts, /<reference types="@cloudflare\/workers-types" \/>/);
    assert.doesNotMatch(dts, /^\s*import\s/m, "imports nothing");
    // The caller's own node_modules holds only @cloudflare/workers-types.
    mkdirSync(path.join(dir, "node_modules/@cloudflare"), { recursive: true });
    symlinkSync(path.join(ROOT, "node_modules/@cloudflare/workers-types"), path.join(dir, "node_modules/@cloudflare/workers-types"), "dir");
    writeFileSync(
      path.join(dir, "src/index.ts"),
      `import type { ScaffoldTestBearerCapability } from "./types/scaffold-test-bearer";
interface Env { SCAFFOLD_TEST_BEARER: Service<ScaffoldTestBearerCapability> }
export default {
  async fetch(_request: Request, env: Env): Promise<Response> {
    const r = await env.SCAFFOLD_TEST_BEARER.notes.list({ limit: 3 });
    if (!r.ok) return Response.json({ code: r.error.code }, { status: 502 });
    const one = await env.SCAFFOLD_TEST_BEARER.notes.retrieve("n_1");
    // @ts-expect-error a method the spec does not declare
    await env.SCAFFOLD_TEST_BEARER.notes.archive("n_1");
    // @ts-expect-error a parameter the spec does not declare
    await env.SCAFFOLD_TEST_BEARER.notes.list({ lmit: 3 });
    return Response.json({ ok: one.ok, receipt: r.receipt.call });
  },
};
`,
    );
    const tsc = spawnSync(
      path.join(ROOT, "node_modules/.bin/tsc"),
      ["--noEmit", "--strict", "--target", "es2022", "--lib", "esnext", "--module", "esnext", "--moduleResolution", "bundler", "--types", "@cloudflare/workers-types", "src/index.ts"],
      { cwd: dir, encoding: "utf8" },
    );
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
    // And it can fail: a caller calling what is not there does not type-check.
    writeFileSync(path.join(dir, "src/bad.ts"), readFileSync(path.join(dir, "src/index.ts"), "utf8").replaceAll("// @ts-expect-error", "//"));
    const bad = spawnSync(path.join(ROOT, "node_modules/.bin/tsc"), ["--noEmit", "--strict", "--target", "es2022", "--lib", "esnext", "--module", "esnext", "--moduleResolution", "bundler", "--types", "@cloudflare/workers-types", "src/bad.ts"], { cwd: dir, encoding: "utf8" });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stdout, /archive/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
