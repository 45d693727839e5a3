// Service accounts through the auth-jwt fixture Worker in workerd, over a real service binding,
// against a token endpoint and an API of our own on 127.0.0.1 that verify every JWT with the
// public key: the signature (RS256 from PKCS#8 and PKCS#1 keys, ES256), the claims, the exchange
// (grant_type jwt-bearer), the JWT sent itself as the bearer, one flight for concurrent calls,
// refresh on a 401, and no private key, JWT or token in anything a caller or a log sees — the
// exchanged JWT (the assertion) included, when the API echoes it in every form.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, verify } from "node:crypto";
import { startUpstream, startWorkers } from "./harness.mjs";
import { findLeaks } from "./security/corpus.mjs";

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
const KEYS = {
  pkcs8: rsa.privateKey.export({ type: "pkcs8", format: "pem" }),
  pkcs1: rsa.privateKey.export({ type: "pkcs1", format: "pem" }),
  ecPkcs8: ec.privateKey.export({ type: "pkcs8", format: "pem" }),
  ecSec1: ec.privateKey.export({ type: "sec1", format: "pem" }),
  wrongKey: other.privateKey.export({ type: "pkcs8", format: "pem" }),
};
const ISSUER = "capa@example.iam.gserviceaccount.com";
const TOKEN_URL = "https://oauth2.example.com/token";
const b64url = (b) => Buffer.from(b).toString("base64url");

let upstream, cap, tokenRequests, apiRequests, assertions, issued, revoked;
// The last assertion the token endpoint was sent (the signed JWT, whole), and how the API echoes
// it when asked: "json" (as it is, base64, base64url, in a form, and as the request id) or
// "binary" (inside a binary body).
let lastAssertion, echoAssertion;

/** The JWT's parts, its signature checked with `publicKey` by `alg` (throws when it fails). */
function verified(jwt, publicKey, alg) {
  const [h, c, s] = jwt.split(".");
  const header = JSON.parse(Buffer.from(h, "base64url"));
  assert.deepEqual(header, { alg, typ: "JWT" });
  const key = alg === "ES256" ? { key: publicKey, dsaEncoding: "ieee-p1363" } : publicKey;
  if (!verify("sha256", Buffer.from(`${h}.${c}`), key, Buffer.from(s, "base64url"))) throw new Error("bad signature");
  return JSON.parse(Buffer.from(c, "base64url"));
}

function serve(req) {
  const now = Math.floor(Date.now() / 1000);
  if (req.url === "/token") {
    tokenRequests.push(req);
    const form = new URLSearchParams(req.body);
    if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") return { status: 400, json: { error: "unsupported_grant_type" } };
    let claims;
    lastAssertion = form.get("assertion");
    try {
      claims = verified(form.get("assertion"), rsa.publicKey, "RS256");
    } catch (e) {
      return { status: 400, json: { error: "invalid_grant", error_description: String(e.message) } };
    }
    assertions.push(claims);
    if (claims.iss !== ISSUER || claims.aud !== TOKEN_URL || claims.scope !== "files.read" || claims.exp - claims.iat > 3600 || Math.abs(claims.iat - now) > 60) {
      return { status: 400, json: { error: "invalid_grant", claims } };
    }
    const token = `ya29.CANARY${++issued}`;
    return { status: 200, json: { access_token: token, token_type: "Bearer", expires_in: 3599 } };
  }
  apiRequests.push(req);
  const bearer = (req.headers.authorization ?? "").replace(/^Bearer /, "");
  if (req.url.startsWith("/v1/app")) {
    try {
      const claims = verified(bearer, ec.publicKey, "ES256");
      if (claims.iss !== "12345" || claims.exp - claims.iat !== 600 || claims.aud !== undefined) throw new Error("claims");
    } catch {
      return { status: 401, json: { message: "A JSON web token could not be decoded", got: bearer } };
    }
    return { status: 200, json: { id: 12345, echo: bearer } };
  }
  if (!bearer.startsWith("ya29.CANARY") || revoked.has(bearer)) return { status: 401, json: { error: "invalid_token", got: bearer } };
  const a = lastAssertion;
  if (echoAssertion === "json") {
    const json = { files: [], assertion: a, b64: Buffer.from(a).toString("base64"), b64url: b64url(a), form: `assertion=${encodeURIComponent(a)}` };
    return { status: 200, headers: { "x-request-id": `req_${a}` }, json };
  }
  if (echoAssertion === "binary") return { status: 200, headers: { "content-type": "application/octet-stream" }, body: Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(a), Buffer.from([255])]) };
  return { status: 200, json: { files: [], echo: req.headers.authorization } };
}

before(async () => {
  upstream = await startUpstream();
  upstream.reply = serve;
  const base = { CAPA_LOOPBACK_ORIGIN: upstream.origin, AUTHJ_APP_KEY: KEYS.ecPkcs8 };
  cap = await startWorkers({
    provider: "auth-jwt",
    bindings: { ...base, AUTHJ_PRIVATE_KEY: KEYS.pkcs8 },
    variants: {
      CAP_PKCS1: { bindings: { ...base, AUTHJ_PRIVATE_KEY: KEYS.pkcs1, AUTHJ_APP_KEY: KEYS.ecSec1 } },
      CAP_STORM: { bindings: { ...base, AUTHJ_PRIVATE_KEY: KEYS.pkcs8 } },
      CAP_WRONG: { bindings: { ...base, AUTHJ_PRIVATE_KEY: KEYS.wrongKey } },
      CAP_NOT_A_KEY: { bindings: { ...base, AUTHJ_PRIVATE_KEY: "sk_live_not_a_pem" } },
      CAP_EC_FOR_RSA: { bindings: { ...base, AUTHJ_PRIVATE_KEY: KEYS.ecPkcs8 } },
      CAP_ECHO: { bindings: { ...base, AUTHJ_PRIVATE_KEY: KEYS.pkcs8 } },
    },
  });
});
after(async () => {
  const logs = cap.logs.join("\n");
  assert.deepEqual(findLeaks(null, cap.logs), []);
  for (const pem of Object.values(KEYS)) assert.ok(!logs.includes(pem.split("\n")[3]), "a private key in the logs");
  await cap.dispose();
  await upstream.close();
});
beforeEach(() => {
  issued ??= 0;
  revoked ??= new Set();
  tokenRequests = [];
  apiRequests = [];
  assertions = [];
  echoAssertion = undefined;
});

/** One call; nothing a caller sees holds a key's body, a JWT or a token. */
async function run(target, call, ...args) {
  const [out] = await cap.batch([{ target, call, args }], 1);
  assert.equal(out.thrown, undefined, JSON.stringify(out.thrown));
  const text = JSON.stringify(out.value);
  assert.deepEqual(findLeaks(out.value), [], call);
  for (const pem of Object.values(KEYS)) for (const line of pem.split("\n").slice(1, -2)) assert.ok(!text.includes(line), "a private key reached the caller");
  assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]{10,}\.eyJ/, "a JWT reached the caller");
  return out.value;
}

test("a JWT signed with the PKCS#8 key (RS256), exchanged for a token (jwt-bearer), then the token as bearer", async () => {
  const r = await run("CAP", "files.retrieve", { pageSize: 5 });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  assert.equal(tokenRequests.length, 1);
  const [exchange] = tokenRequests;
  assert.equal(`${exchange.method} ${exchange.url}`, "POST /token");
  assert.equal(exchange.headers["content-type"], "application/x-www-form-urlencoded");
  assert.equal(exchange.headers.authorization, undefined, "the assertion is the credential");
  assert.deepEqual(Object.keys(assertions[0]).sort(), ["aud", "exp", "iat", "iss", "scope"]);
  assert.equal(assertions[0].exp - assertions[0].iat, 3600);
  assert.match(apiRequests[0].headers.authorization, /^Bearer ya29\.CANARY\d+$/);
  assert.equal(apiRequests[0].url, "/v1/files?pageSize=5");
  assert.deepEqual([r.receipt.refreshed, r.receipt.credential], [true, "secret"]);
  assert.equal(r.result.echo, "Bearer [REDACTED]");
  // Cached for the calls that follow.
  const again = await run("CAP", "files.retrieve");
  assert.equal(again.receipt.refreshed, false);
  assert.equal(tokenRequests.length, 1);
});

test("a PKCS#1 key (a GitHub App's kind) signs the same; an app's ES256 JWT is itself the bearer, from PKCS#8 and SEC1", async () => {
  const r = await run("CAP_PKCS1", "files.retrieve");
  assert.equal(r.ok, true, JSON.stringify(r.error));
  assert.equal(assertions.length, 1, "the token endpoint verified the PKCS#1 key's signature");
  for (const target of ["CAP", "CAP_PKCS1"]) {
    const app = await run(target, "app.retrieve");
    assert.equal(app.ok, true, `${target}: ${JSON.stringify(app.error)}`);
    assert.equal(app.result.echo, "[REDACTED]");
  }
  assert.equal(tokenRequests.length, 1, "the app's JWT is not exchanged");
  assert.match(apiRequests.at(-1).headers.authorization, /^Bearer eyJ/);
});

test("concurrent calls sign and exchange once", async () => {
  const outs = await cap.batch(Array.from({ length: 50 }, () => ({ target: "CAP_STORM", call: "files.retrieve", args: [] })), 50);
  assert.ok(outs.every((o) => o.value?.ok), JSON.stringify(outs.find((o) => !o.value?.ok)));
  assert.equal(tokenRequests.length, 1, `token requests: ${tokenRequests.length}`);
});

test("a revoked token: a new JWT, a new token, the call once more", async () => {
  const first = await run("CAP_STORM", "files.retrieve");
  // Older than a second: a 401 to it may mean it expired (a younger one's is auth_failed at once).
  await new Promise((resolve) => setTimeout(resolve, 1100));
  revoked.add(apiRequests[0].headers.authorization.replace(/^Bearer /, ""));
  tokenRequests = [];
  const r = await run("CAP_STORM", "files.retrieve");
  assert.equal(r.ok, true, JSON.stringify(r.error));
  assert.deepEqual([r.receipt.attempts, r.receipt.refreshed], [2, true]);
  assert.equal(tokenRequests.length, 1);
  assert.ok(first.ok);
});

test("a key the endpoint does not know, no key at all, a key of the wrong kind: auth_failed or missing_credential, named", async () => {
  const wrong = await run("CAP_WRONG", "files.retrieve");
  assert.equal(wrong.error.code, "auth_failed");
  assert.equal(wrong.error.stage, "token");
  assert.equal(wrong.error.status, 400);
  assert.match(wrong.error.message, /the private key AUTHJ_PRIVATE_KEY/);
  assert.equal(apiRequests.length, 0);
  for (const target of ["CAP_NOT_A_KEY", "CAP_EC_FOR_RSA"]) {
    const e = await run(target, "files.retrieve");
    assert.equal(e.error.code, "missing_credential", `${target}: ${JSON.stringify(e.error)}`);
    assert.match(e.error.message, /AUTHJ_PRIVATE_KEY/);
  }
  assert.equal(tokenRequests.length, 1, "neither unusable key reached the token endpoint");
});

test("the exchanged JWT (the assertion) is a credential: echoed in every form, by every call while its token serves, it reaches no caller", async () => {
  echoAssertion = "json";
  const seen = [];
  for (let i = 0; i < 3; i++) {
    // The first call obtains the token (and sends the assertion); the others find it cached.
    const r = await run("CAP_ECHO", "files.retrieve");
    assert.equal(r.ok, true, JSON.stringify(r.error));
    seen.push(r);
  }
  assert.equal(tokenRequests.length, 1, "one exchange: the later calls echo an assertion they never sent");
  const a = lastAssertion;
  assert.match(a, /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/);
  const forms = [a, Buffer.from(a).toString("base64").replace(/=+$/, ""), b64url(a), encodeURIComponent(a), a.split(".")[2]];
  for (const r of seen) {
    const text = JSON.stringify(r);
    for (const form of forms) assert.ok(!text.includes(form.slice(0, 40)), `the assertion reached the caller: ${text.slice(0, 300)}`);
    assert.equal(r.result.assertion, "[REDACTED]");
    // An id as long as a JWT is no request id: a receipt takes 128 characters at most.
    assert.equal(r.receipt.requestId, null);
  }
  // Inside a binary body it cannot be cut out: the body is withheld.
  echoAssertion = "binary";
  const b = await run("CAP_ECHO", "files.retrieve");
  assert.equal(b.error?.code, "upstream_body_withheld", JSON.stringify(b));
  assert.equal(b.result, undefined);
});
