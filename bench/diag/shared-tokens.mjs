// What sharing tokens through the CapaTokens Durable Object (src/token/shared.rs) adds to a
// cold isolate's first call, in workerd: the auth-oauth2 fixture Worker, many copies of it (each
// its own isolate and token cache) bound to one object, against a token endpoint and an API of
// our own on 127.0.0.1 that answer at once. Per copy, one first call, timed from the caller:
//   exchange  no object: the isolate obtains its own token (an exchange, then the call);
//   shared    the object holds the token: take it, open it, then the call (no exchange);
//   warm      the same copy's second call (token cached): the call alone.
// `shared − warm` is the object's added latency on a cold isolate (key derivation, HMAC, the
// object's RPC, decryption); `exchange − warm` what a token request costs here (a loopback one:
// a real token endpoint costs tens to hundreds of ms more).
//   node bench/diag/shared-tokens.mjs [copies=12]     (after scripts/test.sh or a build of dist/auth-oauth2)
import { startUpstream, startWorkers } from "../../tests/harness.mjs";

const copies = Number(process.argv[2] ?? 12);
const KEY = "tk_BENCHsealing00000000000000000000000";
const upstream = await startUpstream();
upstream.reply = (req) =>
  req.url === "/oauth/token"
    ? { status: 200, json: { access_token: "at_BENCH" + "x".repeat(24), token_type: "Bearer", expires_in: 3600 } }
    : { status: 200, json: { data: [] } };

const bindings = (id) => ({ AUTHO_CLIENT_ID: id, AUTHO_CLIENT_SECRET: "cs_BENCH000000000000", CAPA_LOOPBACK_ORIGIN: upstream.origin, CAPA_TOKENS_KEY: KEY });
const BOUND = { CAPA_TOKENS: { className: "CapaTokens", scriptName: "capability", useSQLite: true } };
const variants = {};
for (let i = 0; i < copies; i++) {
  const { CAPA_TOKENS_KEY, ...alone } = bindings("client-alone");
  variants[`ALONE_${i}`] = { bindings: alone };
  variants[`SHARED_${i}`] = { bindings: bindings("client-shared"), durableObjects: BOUND };
}
const cap = await startWorkers({ provider: "auth-oauth2", bindings: bindings("client-shared"), durableObjects: { CAPA_TOKENS: { className: "CapaTokens", useSQLite: true } }, variants });

async function timed(target) {
  const t0 = performance.now();
  const [out] = await cap.batch([{ target, call: "things.list", args: [] }], 1);
  const ms = performance.now() - t0;
  if (!out.value?.ok) throw new Error(JSON.stringify(out));
  return ms;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// The object gets the token once (this call's own exchange), and is warm.
await timed("CAP");
const rows = { exchange: [], shared: [], warm: [] };
for (let i = 0; i < copies; i++) {
  rows.exchange.push(await timed(`ALONE_${i}`));
  rows.shared.push(await timed(`SHARED_${i}`));
  rows.warm.push(await timed(`SHARED_${i}`));
}
const tokenRequests = upstream.requests.filter((r) => r.url === "/oauth/token").length;
const m = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, median(v)]));
console.log(`shared tokens, ${copies} cold copies each (median ms of a first call from the caller):`);
console.log(`  exchange ${m.exchange.toFixed(2)}   shared ${m.shared.toFixed(2)}   warm ${m.warm.toFixed(2)}`);
console.log(`  the object adds ${(m.shared - m.warm).toFixed(2)} ms to a cold isolate's first call; a loopback exchange adds ${(m.exchange - m.warm).toFixed(2)} ms`);
console.log(`  token requests: ${tokenRequests} (1 for CAP + ${copies} for the copies alone; the shared copies made none)`);
await cap.dispose();
await upstream.close();
