// The Twitch Helix capability: the path rule over a spec whose lists are `{ data, pagination }`,
// repeated-key arrays, and a credential in two parts — the token (secret TWITCH_API_KEY) and the
// app's Client-Id (TWITCH_CLIENT_ID, a secret or a var, bound to the header by the manifest),
// either replaceable per call.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startUpstream, startWorkers } from "./harness.mjs";
import { CANARIES, findLeaks } from "./security/corpus.mjs";

const TOKEN = CANARIES.secret.values[0];
const CLIENT = "acct_CONTEXTclientid0000";
const TENANT_TOKEN = "sk_test_CANARYtenanttoken1111";
const TENANT_CLIENT = "acct_CONTEXTtenantclient";
let upstream, cap;

before(async () => {
  upstream = await startUpstream();
  cap = await startWorkers({ provider: "twitch", bindings: { TWITCH_API_KEY: TOKEN, TWITCH_CLIENT_ID: CLIENT, CAPA_LOOPBACK_ORIGIN: upstream.origin } });
});
after(async () => {
  assert.deepEqual(findLeaks(null, cap.logs), []);
  await cap.dispose();
  await upstream.close();
});
beforeEach(() => {
  upstream.requests.length = 0;
  upstream.reply = () => ({ status: 200, json: { data: [{ broadcaster_id: "141981764", broadcaster_name: "TwitchDev" }] } });
});

async function call(dotted, ...args) {
  const envelope = await cap.call(dotted, ...args);
  assert.deepEqual(findLeaks(envelope), [], dotted);
  return envelope;
}

test("channels.list: the token and the deployment's Client-Id, a list named as platforms write it", async () => {
  const r = await call("channels.list", { broadcaster_id: ["141981764", "12826"] });
  const req = upstream.take();
  assert.equal(`${req.method} ${req.url}`, "GET /helix/channels?broadcaster_id=141981764&broadcaster_id=12826");
  assert.equal(req.headers.authorization, `Bearer ${TOKEN}`);
  assert.equal(req.headers["client-id"], CLIENT);
  assert.deepEqual(r.result.data[0].broadcaster_name, "TwitchDev");
  assert.equal(r.receipt.call, "channels.list");
  assert.equal(r.receipt.credential, "secret");
  assert.ok(!JSON.stringify(r.receipt).includes("CONTEXT"), "no Client-Id in the receipt");
});

test("per call: apiKey alone keeps the deployment's Client-Id; Client-Id alone keeps the deployment's token; both replace both", async () => {
  await call("channels.list", { broadcaster_id: "1" }, { auth: { apiKey: TENANT_TOKEN } });
  let req = upstream.take();
  assert.equal(req.headers.authorization, `Bearer ${TENANT_TOKEN}`);
  assert.equal(req.headers["client-id"], CLIENT);

  await call("channels.list", { broadcaster_id: "1" }, { auth: { headers: { "Client-Id": TENANT_CLIENT } } });
  req = upstream.take();
  assert.equal(req.headers.authorization, `Bearer ${TOKEN}`);
  assert.equal(req.headers["client-id"], TENANT_CLIENT);

  const r = await call("channels.list", { broadcaster_id: "1" }, { auth: { apiKey: TENANT_TOKEN, headers: { "client-id": TENANT_CLIENT } } });
  req = upstream.take();
  assert.equal(req.headers.authorization, `Bearer ${TENANT_TOKEN}`);
  assert.equal(req.headers["client-id"], TENANT_CLIENT, "one Client-Id header, the call's");
  assert.equal(r.receipt.credential, "call");
});

test("the Client-Id is a secret bound header: an upstream echoing it in a request id or a result shows the caller none of it", async () => {
  upstream.reply = (req) => ({ status: 200, headers: { "request-id": req.headers["client-id"] }, json: { data: [{ client: req.headers["client-id"] }] } });
  const r = await call("users.list", { login: ["twitchdev"] });
  const req = upstream.take();
  assert.equal(req.url, "/helix/users?login=twitchdev");
  assert.equal(req.headers["client-id"], CLIENT);
  assert.equal(r.result.data[0].client, "[REDACTED]");
  assert.ok(!JSON.stringify(r).includes(CLIENT));
  // A tenant's own Client-Id per call is a credential too.
  const own = await call("users.list", { login: ["twitchdev"] }, { auth: { headers: { "Client-Id": TENANT_CLIENT } } });
  assert.equal(upstream.take().headers["client-id"], TENANT_CLIENT);
  assert.equal(own.result.data[0].client, "[REDACTED]");
});

test("every Helix endpoint sends the token, though the document says security: []", async () => {
  const bare = await startWorkers({ provider: "twitch", bindings: { TWITCH_CLIENT_ID: CLIENT, CAPA_LOOPBACK_ORIGIN: upstream.origin } });
  try {
    const r = await bare.call("streams.list", { first: 5 });
    assert.equal(r.error.code, "missing_credential");
    assert.match(r.error.message, /wrangler secret put TWITCH_API_KEY --env twitch/);
    assert.equal(upstream.requests.length, 0);
  } finally {
    await bare.dispose();
  }
});

test("a Client-Id no header can carry is missing_credential naming the binding", async () => {
  const odd = await startWorkers({ provider: "twitch", bindings: { TWITCH_API_KEY: TOKEN, TWITCH_CLIENT_ID: "abc\n", CAPA_LOOPBACK_ORIGIN: upstream.origin } });
  try {
    const r = await odd.call("streams.list");
    assert.equal(r.error.code, "missing_credential");
    assert.match(r.error.message, /TWITCH_CLIENT_ID is set but cannot be sent as `Client-Id`/);
    // A call bringing its own Client-Id does not need the deployment's.
    const own = await odd.call("streams.list", null, { auth: { headers: { "Client-Id": TENANT_CLIENT } } });
    assert.equal(own.ok, true);
    assert.equal(upstream.take().headers["client-id"], TENANT_CLIENT);
  } finally {
    await odd.dispose();
  }
});
