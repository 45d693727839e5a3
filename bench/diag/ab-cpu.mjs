// Where one build's CPU per call differs from another's: perf samples of workerd (as diff-cpu.mjs
// takes them) while own-cpu.mjs's child loops one case on the Rust Worker of each dist, as µs per
// call by leaf symbol and by every frame on the stack, sorted by new − base. CPU samples, unlike
// wall time, barely move when other work shares the machine. A diagnostic, not a benchmark.
//   node bench/diag/ab-cpu.mjs base=<dist> new=<dist> [create|list|big] [calls]
import path from "node:path";
import { havePerf, sampleCalls } from "./perf.mjs";
import { ROOT } from "../workers.mjs";

const dists = Object.fromEntries(process.argv.slice(2).filter((a) => a.includes("=")).map((a) => a.split("=")));
const [kase = "create", calls = "10000"] = process.argv.slice(2).filter((a) => !a.includes("="));
if (!havePerf()) {
  console.log("ab-cpu: needs Linux perf (`perf record`); not found, nothing measured");
  process.exit(0);
}
const norm = (f) => f.replace(/\+0x[0-9a-f]+$/, "").replace(/wasm-function\[(\d+)\]-\d+-(\w+).*/, "wasm-function[$1] ($2)").replace(/^(LazyCompile|Function|JS|Builtin):\s*/, "");
async function hist(dist) {
  process.env.OWN_CPU_DIST = path.resolve(ROOT, dist);
  const leaf = new Map(), incl = new Map();
  let all = 0;
  const us = await sampleCalls({ root: ROOT, target: "rust", kase, calls: Number(calls) }, (stack) => {
    all++;
    const l = norm(stack[0] ?? "?");
    leaf.set(l, (leaf.get(l) ?? 0) + 1);
    for (const f of new Set(stack.map(norm))) incl.set(f, (incl.get(f) ?? 0) + 1);
  });
  return { all: us(all), leaf: new Map([...leaf].map(([k, v]) => [k, us(v)])), incl: new Map([...incl].map(([k, v]) => [k, us(v)])) };
}
const base = await hist(dists.base);
const next = await hist(dists.new);
console.log(`${kase}: base ${base.all.toFixed(1)} new ${next.all.toFixed(1)} µs/call`);
for (const kind of ["leaf", "incl"]) {
  const keys = new Set([...base[kind].keys(), ...next[kind].keys()]);
  const rows = [...keys].map((k) => [k, (next[kind].get(k) ?? 0) - (base[kind].get(k) ?? 0), next[kind].get(k) ?? 0, base[kind].get(k) ?? 0]);
  rows.sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
  console.log(`== ${kind}: new - base µs/call (new, base)`);
  for (const [k, d, n, b] of rows.slice(0, kind === "leaf" ? 40 : Number(process.env.AB_ROWS ?? 30))) console.log(`${d.toFixed(2).padStart(7)}  ${n.toFixed(2).padStart(7)} ${b.toFixed(2).padStart(7)}  ${k.slice(0, 140)}`);
}
