// Where the Rust Worker's per-call time goes, end to end (a diagnostic, like own-cpu.mjs; not a
// benchmark). Builds the Stripe Worker unminified and derives two variants of its entry, then
// measures all three beside the twin (bench/diag/ab.mjs):
//   - oracle: the runtime's answers replayed from the first call, so no call enters wasm: the
//     entry's own structure (RPC target, JSON, fetch, scan, envelope) without the runtime;
//   - hot: each call first runs begin + finish HOT (10) times more, synchronously, so those
//     iterations find code and data in cache: (hot − rust) / HOT is a warm begin + finish.
// rust − oracle is what the two wasm calls cost a call in place, cold; against the warm figure
// it says how much of that is the runtime's work and how much is its code and data being out of
// cache after everything else a call does in between.
//   node bench/diag/oracle.mjs          (BENCH_CASES, BENCH_N, BENCH_BLOCK, BENCH_ROUNDS as in ab.mjs)
import { execFileSync } from "node:child_process";
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { compare, options, print } from "./ab.mjs";
import { ROOT } from "../workers.mjs";

const HOT = 10;
const plain = path.join(ROOT, "dist", "stripe-plain");
rmSync(plain, { recursive: true, force: true });
// scripts/env.sh: the project's wrangler and tools, kept offline.
const build = 'source scripts/env.sh && wrangler deploy --dry-run --outdir "$1" --env stripe --minify=false';
execFileSync("bash", ["-c", build, "oracle.mjs", plain], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });

// Each edit must match the generated entry exactly once: if the entry changed, this fails loudly
// rather than measuring something else.
function variant(name, edits) {
  const dir = path.join(ROOT, "dist", `stripe-${name}`);
  rmSync(dir, { recursive: true, force: true });
  cpSync(plain, dir, { recursive: true });
  let js = readFileSync(path.join(dir, "entry.js"), "utf8");
  for (const [from, to] of edits) {
    if (js.split(from).length !== 2) throw new Error(`oracle.mjs: the entry no longer reads \`${from}\` once; update the edit`);
    js = js.replace(from, to);
  }
  writeFileSync(path.join(dir, "entry.js"), js);
  return dir;
}
const BEGIN = "const out = capa_begin(op, json, grant, id, env === bound ? void 0 : bound = env, ticket, flags, t0, earlier, Date.now());";
const FINISH = "out = capa_finish(handle, ticket, op, Date.now(), status, heads, body, empty, found, bytes !== null);";
const variants = {
  rust: plain,
  oracle: variant("oracle", [
    [BEGIN, `const out = (globalThis.__begun ??= {})[op + json] ??= capa_begin(op, json, grant, id, env === bound ? void 0 : bound = env, ticket, flags, t0, earlier, Date.now());`],
    [FINISH, `out = (globalThis.__finished ??= {})[op] ??= capa_finish(handle, ticket, op, Date.now(), status, heads, body, empty, found, bytes !== null);`],
  ]),
  hot: variant("hot", [
    [
      BEGIN,
      `if (env === bound) for (let k = 0; k < ${HOT}; k++) {
        const o = capa_begin(op, json, grant, id, void 0, -1, 0, t0, undefined, Date.now());
        if (o.charCodeAt(0) === 70) capa_finish(+o.slice(1, o.indexOf(":")), -1, op, Date.now(), 200, "application/json\\nreq_hot", "{}", false, false, false);
      }
      ${BEGIN}`,
    ],
  ]),
};
const results = await compare(variants, options());
print(results);
for (const [kase, t] of Object.entries(results)) {
  // From the paired ratios (robust to drift), in µs at the twin's pace.
  const us = (ms) => (ms * 1000).toFixed(1);
  const r = (name) => t[name].ratio[1] * t.twin.ms;
  const cold = r("rust") - r("oracle");
  const warm = (r("hot") - r("rust")) / HOT;
  console.log(`${kase}: the two wasm calls in place ${us(cold)} µs per call; warm ${us(warm)} µs (${(cold / warm).toFixed(1)}×)`);
}
