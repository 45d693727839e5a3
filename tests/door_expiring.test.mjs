// The canary run through the agent door for a credential that expires: the OAuth2 client
// credentials fixture (tests/fixtures/auth/auth-oauth2) bound to a door bundled with its
// documents (tests/door/harness.mjs `extra`). The client secret reaches only the token endpoint,
// each access token only the API; neither, nor the grant token, appears in anything the agent
// sees or any log line, with an API that echoes the token it got (as it is and in base64) and a
// token endpoint that echoes the secret in its refusal.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDoor, envelopeOf, assertNoDoorCanary, DOOR_CANARY } from "./door/harness.mjs";

const CLIENT_ID = "client-CONTEXTdoor";
const CLIENT_SECRET = "cs_CANARYdoorClientSecret666666666666";
let door;
const issuedTokens = [];
let refuse = false;

function serve(req) {
  if (req.url === "/oauth/token") {
    const [id, secret] = Buffer.from((req.headers.authorization ?? "").replace(/^Basic /, ""), "base64").toString("latin1").split(":").map(decodeURIComponent);
    if (refuse || id !== CLIENT_ID || secret !== CLIENT_SECRET) return { status: 401, json: { error: "invalid_client", error_description: `unknown client ${id} with ${secret}` } };
    const token = `at_CANARYdoor${issuedTokens.length}_${Math.random().toString(36).slice(2)}`;
    issuedTokens.push(token);
    return { status: 200, json: { access_token: token, token_type: "Bearer", expires_in: 3600 } };
  }
  const token = (req.headers.authorization ?? "").replace(/^Bearer /, "");
  if (!issuedTokens.includes(token)) return { status: 401, json: { error: "invalid_token", token } };
  return { status: req.url.includes("fail") ? 400 : 200, headers: { "x-echo": token }, json: { seen: req.headers.authorization, b64: Buffer.from(token).toString("base64"), error: { message: `token ${token}` } } };
}

before(async () => {
  door = await startDoor({ extra: { "auth-oauth2": { AUTHO_CLIENT_ID: CLIENT_ID, AUTHO_CLIENT_SECRET: CLIENT_SECRET } } });
  door.upstream.reply = serve;
});
after(async () => door?.dispose());

test("an expiring scheme through the door: the token goes to the API, nothing of it or the client secret to the agent", async () => {
  const { token } = await door.issue({ capabilities: { "auth-oauth2": { rights: { readOnly: false } } } });
  const client = await door.client(token);
  const seen = [(await client.listTools()).tools];
  const call = async (name, args) => {
    const r = await client.callTool({ name: "call", arguments: { name, args } });
    seen.push(r);
    return envelopeOf(r);
  };
  seen.push(await client.callTool({ name: "search", arguments: { query: "list things" } }));
  const listed = await call("auth-oauth2.things.list", [{ limit: 1 }]);
  assert.equal(listed.ok, true, JSON.stringify(listed.error));
  assert.equal(listed.receipt.refreshed, true);
  assert.equal((await call("auth-oauth2.things.create", [{ name: "fail" }])).ok, true);
  await call("auth-oauth2.health.retrieve", []);
  // The token endpoint refusing, echoing the secret: auth_failed, nothing of it shown.
  refuse = true;
  issuedTokens.splice(0);
  const failed = await call("auth-oauth2.things.list", []);
  assert.equal(failed.ok, false);
  refuse = false;
  const api = door.upstream.requests.splice(0);
  assert.ok(api.some((r) => r.url === "/oauth/token") && api.some((r) => /^Bearer at_CANARYdoor/.test(r.headers.authorization ?? "")), "the secret and a token went where they belong");
  const canaries = [CLIENT_SECRET, token, ...Object.values(DOOR_CANARY), ...api.map((r) => (r.headers.authorization ?? "").replace(/^Bearer /, "")).filter((t) => t.startsWith("at_CANARY"))];
  assert.ok(canaries.length > 7);
  assertNoDoorCanary(assert, seen, "what the agent saw", canaries);
  assertNoDoorCanary(assert, door.logs, "the logs", canaries);
});
