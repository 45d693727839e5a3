// A/B diagnostic: builds of the Rust Worker side by side with the twin in one workerd, taking
// turns within every round as the per-call bench does, so all share the machine's drift. For
// weighing a change before a full `npm run bench`:
//   node bench/diag/ab.mjs base=dist/stripe new=/tmp/new-dist    (dirs from `wrangler deploy --dry-run --outdir`)
// BENCH_CASES, BENCH_N (calls per target per round), BENCH_BLOCK, BENCH_ROUNDS as in run.mjs.
// Differences under ~3 % need several runs on these VMs: per-round ratios spread by ±5 %.
// `clean` is the same ratio with the passes a burst disturbed left out (see `clean` below).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { median, paired, quartiles } from "../stats.mjs";
import { ROOT, benchWorkers, lapped } from "../workers.mjs";

/// Burst-free totals of one round: `{ target: ms }` over the passes in which no target's turn
/// took more than `1 + slack` times its median turn, and the share of passes kept. On these VMs a
/// round's ratio moves by ±7 % mostly through bursts of tens of ms (a neighbour, a collection in
/// the shared upstream or caller) landing on one target's turns; a pass is left out for every
/// target at once, so what remains stays paired, and a target's own steady cost (its collections
/// included, which come every few calls, not in bursts) stays in every kept turn.
export function clean(laps, slack = 0.25) {
  const targets = Object.keys(laps);
  const bound = Object.fromEntries(targets.map((t) => [t, median(laps[t]) * (1 + slack)]));
  const passes = laps[targets[0]].length;
  const ms = Object.fromEntries(targets.map((t) => [t, 0]));
  let kept = 0;
  for (let i = 0; i < passes; i++) {
    if (targets.some((t) => laps[t][i] > bound[t])) continue;
    kept++;
    for (const t of targets) ms[t] += laps[t][i];
  }
  return { ms, kept: kept / passes };
}

/// Per case and target: median ms per call, and the median of per-round ratios to the twin with
/// quartiles. `variants`: `{ name: dist }`.
export async function compare(variants, { cases = ["create", "list"], n = 1000, block = 50, rounds = 11 } = {}) {
  const targets = ["twin", ...Object.keys(variants)];
  const mf = benchWorkers(["twin"], { variants });
  const out = {};
  try {
    for (const kase of cases) {
      const ms = [];
      const cleaned = [];
      for (let r = 0; r < rounds + 1; r++) {
        const round = await lapped(mf, targets, kase, n, block);
        if (r === 0) continue; // the first round warms up
        ms.push(round.ms);
        cleaned.push(clean(round.laps));
      }
      const kept = median(cleaned.map((c) => c.kept));
      out[kase] = Object.fromEntries(
        targets.map((t) => [
          t,
          {
            ms: quartiles(ms.map((m) => m[t] / n))[1],
            ratio: paired(ms.map((m) => m[t]), ms.map((m) => m.twin)),
            clean: paired(cleaned.map((c) => c.ms[t]), cleaned.map((c) => c.ms.twin)),
            kept,
          },
        ]),
      );
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
    for (const [t, { ms, ratio: [lo, mid, hi], clean: [clo, cmid, chi], kept }] of Object.entries(targets)) {
      console.log(`${kase.padEnd(7)} ${t.padEnd(10)} ${ms.toFixed(3)} ms  / twin ${mid.toFixed(3)} (${lo.toFixed(3)}–${hi.toFixed(3)})  clean ${cmid.toFixed(3)} (${clo.toFixed(3)}–${chi.toFixed(3)}, ${Math.round(kept * 100)} % of passes)`);
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const variants = Object.fromEntries(process.argv.slice(2).map((a) => a.split("=")).map(([name, dir]) => [name, path.resolve(ROOT, dir)]));
  if (!Object.keys(variants).length) throw new Error("usage: node bench/diag/ab.mjs name=distdir [name=distdir ...]");
  print(await compare(variants, options()));
}
