// Cookie sessions through the auth-session fixture Worker in workerd, over a real service
// binding, against an app of our own on 127.0.0.1 (the recording upstream): the exact login,
// the jar kept and replayed, one login for concurrent calls, a new login on a 401 and on a soft
// login wall (a 200 login page), a persisting wall and a refused login as auth_failed/login, a
// session refused right after its login ending the call, and no password, user name or session
// cookie in anything a caller or a log sees.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startUpstream, startWorkers } from "./harness.mjs";
import { CANARIES, findLeaks } from "./security/corpus.mjs";

const [PASSWORD, PASSWORD_ODD] = CANARIES.loginPassword.values;
const USER = "ada@CONTEXT.example";
const LOGIN_PAGE = '<html><form action="/login" method="post"><input name="username"><input name="password" type="password"></form></html>';

let upstream, cap, logins, apiRequests, sessions, wallAlways, wallType, serial, refuse401;
const b64 = (s) => Buffer.from(s).toString("base64");

function serve(req) {
  if (req.url === "/login") {
    logins.push(req);
    const form = new URLSearchParams(req.body);
    const ok = req.headers["content-type"] === "application/x-www-form-urlencoded" && form.get("username") === USER && [PASSWORD, PASSWORD_ODD].includes(form.get("password"));
    if (!ok) return { status: 401, headers: { "content-type": "text/html" }, body: `${LOGIN_PAGE}<p>wrong password ${form.get("password")}</p>` };
    const sid = `sid_CANARY${++serial}`;
    sessions.add(sid);
    // A redirect home with the session cookie, a CSRF cookie the Worker does not keep, and an
    // expired tracker.
    return {
      status: 302,
      headers: { location: "/home", "set-cookie": [`sid=${sid}; Path=/; HttpOnly; Secure; Max-Age=3600`, "csrf=c1; Path=/", "tracker=gone; Max-Age=0"] },
    };
  }
  apiRequests.push(req);
  const sid = /(?:^|; )sid=([^;]+)/.exec(req.headers.cookie ?? "")?.[1];
  // A session the app forgot answers its login page, 200, as such apps do.
  if (wallAlways || !sessions.has(sid)) return { status: 200, headers: { "content-type": wallType }, body: LOGIN_PAGE };
  if (refuse401) return { status: 401, json: { error: "session ended" } };
  // The app echoes who is logged in, in every form an app might: as it is, base64, form-encoded,
  // and in its request id.
  if (req.url.startsWith("/api/me")) {
    const json = { user: USER, b64: b64(USER), form: `username=${encodeURIComponent(USER)}`, cookie: req.headers.cookie };
    return { status: 200, headers: { "x-request-id": `req_${USER}` }, json };
  }
  return { status: req.method === "POST" ? 201 : 200, json: req.method === "POST" ? { id: "p1" } : [{ id: "p1" }] };
}

before(async () => {
  upstream = await startUpstream();
  upstream.reply = serve;
  const base = { CAPA_LOOPBACK_ORIGIN: upstream.origin, AUTHS_USERNAME: USER };
  // The main Worker defines the token object and shares its session through it (src/token/shared.rs);
  // SHARED_* are other Workers binding it by scriptName.
  const shared = { CAPA_TOKENS_KEY: CANARIES.sealingKey.values[0] };
  const bound = { CAPA_TOKENS: { className: "CapaTokens", scriptName: "capability", useSQLite: true } };
  cap = await startWorkers({
    provider: "auth-session",
    bindings: { ...base, AUTHS_PASSWORD: PASSWORD, ...shared },
    durableObjects: { CAPA_TOKENS: { className: "CapaTokens", useSQLite: true } },
    variants: {
      SHARED_1: { bindings: { ...base, AUTHS_PASSWORD: PASSWORD_ODD, ...shared }, durableObjects: bound },
      SHARED_2: { bindings: { ...base, AUTHS_PASSWORD: PASSWORD_ODD, ...shared }, durableObjects: bound },
      CAP_STORM: { bindings: { ...base, AUTHS_PASSWORD: PASSWORD_ODD } },
      CAP_WALL: { bindings: { ...base, AUTHS_PASSWORD: PASSWORD } },
      CAP_WRONG: { bindings: { ...base, AUTHS_PASSWORD: "pw_CANARYwrong000000000" } },
      CAP_NO_USER: { bindings: { CAPA_LOOPBACK_ORIGIN: upstream.origin, AUTHS_PASSWORD: PASSWORD } },
      CAP_FRESH: { bindings: { ...base, AUTHS_PASSWORD: PASSWORD } },
    },
  });
});
after(async () => {
  assert.deepEqual(findLeaks(null, cap.logs), []);
  await cap.dispose();
  await upstream.close();
});
beforeEach(() => {
  serial ??= 0;
  sessions ??= new Set();
  logins = [];
  apiRequests = [];
  wallAlways = false;
  wallType = "text/html; charset=utf-8";
  refuse401 = false;
});

async function run(target, call, ...args) {
  const [out] = await cap.batch([{ target, call, args }], 1);
  assert.equal(out.thrown, undefined, JSON.stringify(out.thrown));
  assert.deepEqual(findLeaks(out.value), [], call);
  assert.doesNotMatch(JSON.stringify(out.value.receipt), /CONTEXT|CANARY/);
  assert.ok(!JSON.stringify(out.value).includes('name="password"'), "the login page reached the caller");
  return out.value;
}

test("the login: a form POST of the fields from their handles; the kept cookie replayed, the others not", async () => {
  const r = await run("CAP", "projects.list");
  assert.equal(r.ok, true, JSON.stringify(r.error));
  assert.equal(logins.length, 1);
  const [login] = logins;
  assert.equal(`${login.method} ${login.url}`, "POST /login");
  assert.equal(login.headers["content-type"], "application/x-www-form-urlencoded");
  assert.equal(login.body, `password=${encodeURIComponent(PASSWORD)}&username=${encodeURIComponent(USER)}`);
  assert.match(apiRequests[0].headers.cookie, /^sid=sid_CANARY\d+$/, "only the session cookie");
  assert.deepEqual([r.receipt.credential, r.receipt.refreshed, r.receipt.attempts], ["secret", true, 1]);
  const me = await run("CAP", "me.retrieve");
  assert.equal(me.result.cookie, "sid=[REDACTED]", "the cookie's echo is scrubbed");
  // The user name is the deployment's credential too (a Worker secret): scrubbed in every form.
  assert.deepEqual([me.result.user, me.receipt.requestId], ["[REDACTED]", "req_[REDACTED]"]);
  const text = JSON.stringify(me);
  for (const form of [USER, b64(USER).replace(/=+$/, ""), encodeURIComponent(USER), "ada@"]) assert.ok(!text.includes(form), `${form} reached the caller: ${text}`);
  assert.equal(me.receipt.refreshed, false);
  assert.equal(logins.length, 1, "the session serves the calls that follow");
});

test("concurrent calls meeting no session log in once", async () => {
  const outs = await cap.batch(Array.from({ length: 50 }, () => ({ target: "CAP_STORM", call: "projects.list", args: [] })), 50);
  assert.ok(outs.every((o) => o.value?.ok), JSON.stringify(outs.find((o) => !o.value?.ok)));
  assert.equal(logins.length, 1, `logins: ${logins.length}`);
});

test("a soft login wall (the app forgot the session, answering its login page) logs in again and retries once", async () => {
  assert.equal((await run("CAP_WALL", "projects.list")).ok, true);
  // A session older than a second may have ended; a younger one's wall is the login failing.
  const settled = () => new Promise((resolve) => setTimeout(resolve, 1100));
  await settled();
  sessions.clear();
  logins = [];
  apiRequests = [];
  const r = await run("CAP_WALL", "projects.create", { name: "x" });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  assert.deepEqual([r.receipt.attempts, r.receipt.refreshed, r.receipt.status], [2, true, 201]);
  assert.equal(logins.length, 1);
  assert.equal(apiRequests.length, 2);
  assert.equal(apiRequests[1].body, '{"name":"x"}');
  // Known by its marker when its media type does not give it away.
  await settled();
  sessions.clear();
  wallType = "text/plain";
  logins = [];
  const marked = await run("CAP_WALL", "projects.list");
  assert.equal(marked.ok, true, JSON.stringify(marked.error));
  assert.deepEqual([marked.receipt.attempts, logins.length], [2, 1]);
  // A wall still there after a fresh login: auth_failed at the login stage, never the page.
  await settled();
  wallAlways = true;
  logins = [];
  const e = await run("CAP_WALL", "projects.list");
  assert.equal(e.error.code, "auth_failed");
  assert.equal(e.error.stage, "login");
  assert.equal(e.error.status, 200);
  assert.equal(e.result, undefined);
  assert.equal(logins.length, 1);
});

test("a refused login is auth_failed at the login stage, naming the handles; an unset field is missing_credential", async () => {
  const e = await run("CAP_WRONG", "projects.list");
  assert.equal(e.error.code, "auth_failed");
  assert.equal(e.error.stage, "login");
  assert.equal(e.error.status, 401);
  assert.match(e.error.message, /the login AUTHS_USERNAME and AUTHS_PASSWORD/);
  assert.equal(apiRequests.length, 0);
  const m = await run("CAP_NO_USER", "projects.list");
  assert.equal(m.error.code, "missing_credential");
  assert.match(m.error.message, /wrangler secret put AUTHS_USERNAME --env auth-session/);
  assert.equal(logins.length, 1);
});

test("a per-call cookie is sent as it is, never kept", async () => {
  const sid = "sid_CANARYcaller0000";
  sessions.add(sid);
  const r = await run("CAP_STORM", "me.retrieve", { auth: { apiKey: `sid=${sid}` } });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  assert.equal(apiRequests[0].headers.cookie, `sid=${sid}`);
  assert.deepEqual([r.receipt.credential, r.receipt.refreshed], ["call", false]);
  assert.equal(logins.length, 0);
});

test("Workers sharing the token object share one session: one login for both", async () => {
  const outs = await cap.batch(Array.from({ length: 20 }, (_, i) => ({ target: `SHARED_${(i % 2) + 1}`, call: "me.retrieve", args: [] })), 20);
  for (const o of outs) {
    assert.equal(o.value?.ok, true, JSON.stringify(o.value?.error ?? o.thrown));
    assert.deepEqual(findLeaks(o.value), []);
  }
  assert.equal(logins.length, 1, `logins: ${logins.length}`);
  assert.equal(new Set(apiRequests.map((r) => r.headers.cookie)).size, 1, "both Workers replayed the one session");
});

test("a session the app refuses within a second of its login ends the call: no second login", async () => {
  // A session that new did not expire: logging in again would be refused alike, and every call
  // would become a login.
  refuse401 = true;
  const e = await run("CAP_FRESH", "projects.list");
  assert.deepEqual([e.error.code, e.error.stage, e.error.status], ["auth_failed", "upstream", 401]);
  assert.deepEqual([e.receipt.attempts, e.receipt.refreshed], [1, true]);
  assert.equal(logins.length, 1);
  assert.equal(apiRequests.length, 1);
  // Older than a second, the same refusal is a session that ended: one login more, one retry.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  logins = [];
  apiRequests = [];
  const again = await run("CAP_FRESH", "projects.list");
  assert.deepEqual([again.error?.code, again.error?.stage, again.receipt.attempts], ["auth_failed", "upstream", 2]);
  assert.deepEqual([logins.length, apiRequests.length], [1, 2]);
});
