// Many pages in one call (src/pages.rs, docs/pages.md) against the calls a caller would make
// without it: 1,000 customers over 10 pages of 100, read by one `options.pages` call or by ten
// calls threading `starting_after`, in turns within every round (one workerd, the Rust Worker as
// built into dist/stripe). Reported as median ms per 1,000 items and the ratio to the ten calls.
// (The capability isolate's peak heap, which the issue asks for too, is not measured yet.)
//   node bench/pages.mjs            (BENCH_N walks per way per round, BENCH_ROUNDS rounds)
import { paired, quartiles } from "./stats.mjs";
import { benchWorkers, wayRounds } from "./workers.mjs";

const WAYS = ["pages", "tenCalls"];

export async function pages({ n = 20, block = 5, rounds = 7 } = {}) {
  const mf = benchWorkers(["rust"]);
  let ms;
  try {
    await mf.ready;
    ms = await wayRounds(mf, "rust", WAYS, { n, block, rounds });
  } finally {
    await mf.dispose();
  }
  return Object.fromEntries(WAYS.map((w) => [w, { ms: quartiles(ms.map((m) => m[w] / n))[1], ratio: paired(ms.map((m) => m[w]), ms.map((m) => m.tenCalls)) }]));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = await pages({ n: Number(process.env.BENCH_N ?? 20), rounds: Number(process.env.BENCH_ROUNDS ?? 7) });
  for (const [w, { ms, ratio }] of Object.entries(out)) {
    console.log(`${w.padEnd(9)} ${ms.toFixed(2)} ms per 1,000 items  / ten calls ${ratio[1].toFixed(3)} (${ratio[0].toFixed(3)}–${ratio[2].toFixed(3)})`);
  }
}
