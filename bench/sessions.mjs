// What a session costs per call (src/grant.rs), against the plain call of the same Worker: one
// workerd, the Rust Worker as built into dist/stripe, `customers.list` made four ways in turns
// within every round (plain; a per-call key; through a session made once, `held`; through a
// session made in the same pipelined call), so all share the machine's drift. Reported as median
// ms per call and the median of per-round ratios to the plain call, with quartiles.
//   node bench/sessions.mjs            (BENCH_N calls per way per round, BENCH_ROUNDS rounds)
import { paired, quartiles } from "./stats.mjs";
import { benchWorkers, wayRounds } from "./workers.mjs";

const WAYS = ["plain", "callKey", "held", "pipelined"];

export async function sessions({ n = 1000, block = 50, rounds = 11 } = {}) {
  const mf = benchWorkers(["rust"]);
  let ms;
  try {
    ms = await wayRounds(mf, "rust", WAYS, { n, block, rounds });
  } finally {
    await mf.dispose();
  }
  return Object.fromEntries(WAYS.map((w) => [w, { ms: quartiles(ms.map((m) => m[w] / n))[1], ratio: paired(ms.map((m) => m[w]), ms.map((m) => m.plain)) }]));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = await sessions({ n: Number(process.env.BENCH_N ?? 1000), rounds: Number(process.env.BENCH_ROUNDS ?? 11) });
  for (const [w, { ms, ratio }] of Object.entries(out)) {
    console.log(`${w.padEnd(10)} ${ms.toFixed(3)} ms  / plain ${ratio[1].toFixed(3)} (${ratio[0].toFixed(3)}–${ratio[2].toFixed(3)})`);
  }
}
