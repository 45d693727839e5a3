// The benchmark's caller Worker. Loops run inside workerd, timed as whole loops: workerd's clock
// only advances on I/O, and every iteration does I/O.
const KEY = "sk_test_bench_0000000000000000000000";
const CASES = {
  create: {
    rpc: (s) => s.paymentIntents.create({ amount: 2500, currency: "usd", metadata: { order_id: "A1" } }),
    direct: () =>
      fetch("https://api.stripe.com/v1/payment_intents", {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/x-www-form-urlencoded", "stripe-version": "2024-04-10" },
        body: "amount=2500&currency=usd&metadata[order_id]=A1",
      }),
  },
  list: {
    rpc: (s) => s.customers.list({ limit: 3, expand: ["data.default_source"] }),
    direct: () => fetch("https://api.stripe.com/v1/customers?limit=3&expand[]=data.default_source", { headers: { authorization: `Bearer ${KEY}`, "stripe-version": "2024-04-10" } }),
  },
  // GitHub's capability, for its first call (cold start); the bench upstream answers any GET.
  github: {
    rpc: (s) => s.meta.get(),
    direct: () => fetch("https://api.github.com/meta"),
  },
  big: {
    rpc: (s) => s.customers.list({ limit: 100 }),
    direct: () => fetch("https://api.stripe.com/v1/customers?limit=100", { headers: { authorization: `Bearer ${KEY}`, "stripe-version": "2024-04-10" } }),
  },
};

// The ways of making one call (bench/sessions.mjs), for one target, taking turns like targets do:
// plain, with a per-call key, through a session made once (`held`), and through a session made in
// the same pipelined call.
const LIST = { limit: 3, expand: ["data.default_source"] };
const WAYS = {
  plain: (s) => s.customers.list(LIST),
  callKey: (s) => s.customers.list(LIST, { auth: { apiKey: KEY } }),
  held: (s, held) => held.customers.list(LIST),
  pipelined: async (s) => {
    // Not awaited before its use: one round trip. Disposed, as workerd asks of every stub.
    using session = s.withAuth({ apiKey: KEY });
    return await session.customers.list(LIST);
  },
};

// 1,000 customers over 10 pages (bench/pages.mjs): one call walking them (`options.pages`), or
// ten calls threading the cursor by hand, as a caller without pages does.
const WALK = { email: "walk", limit: 100 };
const WALKS = {
  pages: async (s) => {
    const r = await s.customers.list(WALK, { pages: { maxItems: 1000 } });
    if (!r.ok || r.result.data.length !== 1000) throw new Error(`pages: ${JSON.stringify(r.error ?? r.result.pages)}`);
  },
  tenCalls: async (s) => {
    let after, items = 0;
    for (let page = 0; page < 10; page++) {
      const r = await s.customers.list(after ? { ...WALK, starting_after: after } : WALK);
      if (!r.ok) throw new Error(`tenCalls: ${JSON.stringify(r.error)}`);
      items += r.result.data.length;
      after = r.result.data.at(-1).id;
    }
    if (items !== 1000) throw new Error(`tenCalls: ${items} items`);
  },
};

async function ways(env, target, names, n, block) {
  if (names.every((w) => w in WALKS)) return await inTurns(names, n, block, (w) => WALKS[w](env[target.toUpperCase()]));
  const stub = env[target.toUpperCase()];
  using held = await stub.withAuth({ apiKey: KEY });
  // Awaited here: `held` is disposed when this returns.
  return await inTurns(names, n, block, async (w) => {
    const r = await WAYS[w](stub, held);
    if (!r.ok) throw new Error(`${target} ${w}: ${JSON.stringify(r.error)}`);
  });
}

async function once(env, target, name) {
  const c = CASES[name];
  if (target === "direct") {
    const res = await c.direct();
    const result = await res.json();
    if (!res.ok) throw new Error(`direct ${name}: ${res.status}`);
    return result;
  }
  const r = await c.rpc(env[target.toUpperCase()]);
  if (!r.ok) throw new Error(`${target} ${name}: ${JSON.stringify(r.error)}`);
  return r.result;
}

// `targets=a,b,c&block=B`: n calls per target, in blocks of B calls that take turns (the order
// rotating each pass), each block timed on its own. Targets compared this way share every stretch
// of the machine's drift, where loops run one after another each meet their own.
function interleaved(env, targets, name, n, block, laps) {
  return inTurns(targets, n, block, (t) => once(env, t, name), laps);
}

// `n` calls of `one(key)` per key, in turns of `block` (the order rotating each pass): ms per key.
// `laps`, when given, gets each key's turns one by one, pass by pass (bench/diag/ab.mjs).
async function inTurns(keys, n, block, one, laps) {
  const ms = Object.fromEntries(keys.map((k) => [k, 0]));
  if (laps) for (const k of keys) laps[k] = [];
  for (let pass = 0; pass * block < n; pass++) {
    const calls = Math.min(block, n - pass * block);
    for (let k = 0; k < keys.length; k++) {
      const key = keys[(pass + k) % keys.length];
      const started = Date.now();
      for (let i = 0; i < calls; i++) await one(key);
      const took = Date.now() - started;
      ms[key] += took;
      laps?.[key].push(took);
    }
  }
  return ms;
}

export default {
  async fetch(request, env) {
    const u = new URL(request.url);
    const target = u.searchParams.get("target");
    const name = u.searchParams.get("case");
    const n = Number(u.searchParams.get("n") ?? 1);
    const c = Number(u.searchParams.get("c") ?? 1);
    try {
      if (u.searchParams.has("ways")) {
        const block = Number(u.searchParams.get("block") ?? 50);
        return Response.json({ ms: await ways(env, target, u.searchParams.get("ways").split(","), n, block), n });
      }
      if (u.searchParams.has("targets")) {
        const block = Number(u.searchParams.get("block") ?? 50);
        const laps = {};
        return Response.json({ ms: await interleaved(env, u.searchParams.get("targets").split(","), name, n, block, laps), laps, n });
      }
      const started = Date.now();
      await Promise.all(
        Array.from({ length: c }, async () => {
          for (let i = 0; i < n / c; i++) await once(env, target, name);
        }),
      );
      return Response.json({ ms: Date.now() - started, n });
    } catch (e) {
      return Response.json({ error: String(e?.message ?? e) }, { status: 500 });
    }
  },
};
