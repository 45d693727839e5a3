// The agent door's figures (docs/door.md, "Figures"): the tool list's size for a Stripe+GitHub
// grant, the first `search` of a GitHub grant in a fresh isolate (the index built at first use),
// and later searches' latency, through the MCP SDK's Client against the built door in workerd
// (dist/mcp, dist/stripe, dist/github: scripts/test.sh builds them). Wall-clock times include
// the HTTP round trip and the grants object; run it on a quiet machine:
//   node bench/door.mjs            (all of it)
//   node bench/door.mjs execute    (only `execute` with one call against a plain `call`)
import { startDoor } from "../tests/door/harness.mjs";

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** `execute` with one call against a plain `call` of the same operation: medians over `n`
 * alternating rounds, after a warm-up. The difference is the sandbox: a Worker loaded for the
 * execution, the script's module, and the stub's hop back into the door. */
async function executeVsCall(door, n = 60) {
  const g = await door.issue({ capabilities: { stripe: {} }, budget: { perMinute: 10_000 } });
  const c = await door.client(g.token);
  door.upstream.reply = () => ({ status: 200, json: { id: "cus_1", object: "customer" } });
  const call = () => c.callTool({ name: "call", arguments: { name: "stripe.customers.retrieve", args: ["cus_1"] } });
  const execute = () => c.callTool({ name: "execute", arguments: { code: 'const r = await api.stripe.customers.retrieve("cus_1"); return r.result.id;' } });
  for (let i = 0; i < 5; i++) await Promise.all([call(), execute()].map((p) => p.catch(() => {})));
  const times = { call: [], execute: [] };
  for (let i = 0; i < n; i++) {
    for (const [name, f] of i % 2 ? [["call", call], ["execute", execute]] : [["execute", execute], ["call", call]]) {
      const t = performance.now();
      const r = await f();
      times[name].push(performance.now() - t);
      if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r)}`);
    }
  }
  door.upstream.requests.splice(0);
  const [mc, me] = [median(times.call), median(times.execute)];
  console.log(`one call: call median ${mc.toFixed(1)} ms, execute (one call in a script) median ${me.toFixed(1)} ms: +${(me - mc).toFixed(1)} ms (${n} rounds each)`);
  await c.close();
}

const door = await startDoor();
if (process.argv[2] === "execute") {
  try {
    await executeVsCall(door);
  } finally {
    await door.dispose();
  }
  process.exit(0);
}
try {
  await executeVsCall(door);
  const both = await door.issue({ capabilities: { stripe: {}, github: {} } });
  const c1 = await door.client(both.token);
  const tools = JSON.stringify((await c1.listTools()).tools);
  console.log(`tool list, Stripe+GitHub grant: ${tools.length} bytes (~${Math.round(tools.length / 4)} tokens)`);
  await c1.close();
  // A fresh door (new isolates) for the cold figure: GitHub alone.
  await door.dispose();
  const cold = await startDoor();
  Object.assign(door, cold);
  const gh = await cold.issue({ capabilities: { github: { rights: { readOnly: false, only: ["read", "write", "destructive"] } } } });
  const c = await cold.client(gh.token);
  let t = performance.now();
  await c.callTool({ name: "search", arguments: { query: "create an issue" } });
  const first = performance.now() - t;
  const times = [];
  const queries = ["merge a pull request", "get the contents of a file", "list pull requests of a repository", "trigger a workflow run", "get the authenticated user"];
  for (let i = 0; i < 50; i++) {
    t = performance.now();
    await c.callTool({ name: "search", arguments: { query: queries[i % queries.length] } });
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const tl = [];
  for (let i = 0; i < 20; i++) {
    t = performance.now();
    await c.listTools();
    tl.push(performance.now() - t);
  }
  tl.sort((a, b) => a - b);
  console.log(`GitHub, first search in a fresh isolate (index build included): ${first.toFixed(0)} ms`);
  console.log(`GitHub, search: median ${times[25].toFixed(1)} ms, p90 ${times[45].toFixed(1)} ms (tools/list, no search: median ${tl[10].toFixed(1)} ms)`);
  console.log(`GitHub index build, estimated: ${(first - times[25]).toFixed(0)} ms`);
  await c.close();
} finally {
  await door.dispose();
}
