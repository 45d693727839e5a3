// A/B diagnostic: builds of the Rust Worker side by side with the twin in one workerd, taking
// turns within every round as the per-call bench does, so all share the machine's drift. For
// weighing a change before a full `npm run bench`:
//   node bench/diag/ab.mjs base=dist/stripe new=/tmp/new-dist    (dirs from `wrangler deploy --dry-run --outdir`)
// BENCH_CASES, BENCH_N (calls per target per round), BENCH_BLOCK, BENCH_ROUNDS as in run.mjs.
// Differences under ~3 % need several runs on these VMs: per-round ratios spread by ±5 %.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { paired, quartiles } from "../stats.mjs";
import { ROOT, benchWorkers, turns } from "../workers.mjs";

/// Per case and target: median ms per call, and the median of per-round ratios to the twin with
/// quartiles. `variants`: `{ name: dist }`.
export async function compare(variants, { cases = ["create", "list"], n = 1000, block = 50, rounds = 11 } = {}) {
  const targets = ["twin", ...Object.keys(variants)];
  const mf = benchWorkers(["twin"], { variants });
  const out = {};
  try {
    for (const kase of cases) {
      const ms = [];
      for (let r = 0; r < rounds + 1; r++) {
        const round = await turns(mf, targets, kase, n, block);
        if (r > 0) ms.push(round); // the first round warms up
      }
      out[kase] = Object.fromEntries(targets.map((t) => [t, { ms: quartiles(ms.map((m) => m[t] / n))[1], ratio: paired(ms.map((m) => m[t]), ms.map((m) => m.twin)) }]));
    }
  } finally {
    await mf.dispose();
  }
  return out;
}

export const options = () => ({
  cases: (process.env.BENCH_CASES ?? "create,list").split(","),
  n: Number(process.env.BENCH_N ?? 1000),
  block: Number(process.env.BENCH_BLOCK ?? 50),
  rounds: Number(process.env.BENCH_ROUNDS ?? 11),
});

export function print(results) {
  for (const [kase, targets] of Object.entries(results)) {
    for (const [t, { ms, ratio: [lo, mid, hi] }] of Object.entries(targets)) {
      console.log(`${kase.padEnd(7)} ${t.padEnd(10)} ${ms.toFixed(3)} ms  / twin ${mid.toFixed(3)} (${lo.toFixed(3)}–${hi.toFixed(3)})`);
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const variants = Object.fromEntries(process.argv.slice(2).map((a) => a.split("=")).map(([name, dir]) => [name, path.resolve(ROOT, dir)]));
  if (!Object.keys(variants).length) throw new Error("usage: node bench/diag/ab.mjs name=distdir [name=distdir ...]");
  print(await compare(variants, options()));
}
