// Where the Rust Worker's extra time per call goes across ALL of workerd, not only under the
// capability's own code (own-cpu.mjs): CPU samples (Linux `perf`) of the whole process while the
// caller loops over one case, for the twin and then the Rust Worker, as µs per call by leaf symbol
// and by every frame on the stack, sorted by rust − twin. A diagnostic, not a benchmark: run after
// a bench build (dist/), like own-cpu.mjs, whose child process it reuses (OWN_CPU_DIST applies).
//   node bench/diag/diff-cpu.mjs [create|list|big] [calls]
// What it showed (bench/README.md, last section): the difference is spread over dozens of
// sub-µs items (wasm functions, JSON of the wire, typed-array views, allocator, Liftoff frames),
// with no single one worth a design change.
import { havePerf, sampleCalls } from "./perf.mjs";
import { ROOT } from "../workers.mjs";

const kase = process.argv[2] ?? "create";
const calls = Number(process.argv[3] ?? 10000);
if (!havePerf()) {
  console.log("diff-cpu: needs Linux perf (`perf record`); not found, nothing measured");
  process.exit(0);
}
const norm = (f) => f.replace(/\+0x[0-9a-f]+$/, "").replace(/wasm-function\[(\d+)\]-\d+-(\w+).*/, "wasm-function[$1] ($2)").replace(/^(LazyCompile|Function|JS|Builtin):\s*/, "");
async function hist(target) {
  const leaf = new Map(), incl = new Map();
  let all = 0;
  const us = await sampleCalls({ root: ROOT, target, kase, calls }, (stack) => {
    all++;
    const l = norm(stack[0] ?? "?");
    leaf.set(l, (leaf.get(l) ?? 0) + 1);
    for (const f of new Set(stack.map(norm))) incl.set(f, (incl.get(f) ?? 0) + 1);
  });
  return { all: us(all), leaf: new Map([...leaf].map(([k, v]) => [k, us(v)])), incl: new Map([...incl].map(([k, v]) => [k, us(v)])) };
}
const twin = await hist("twin");
const rust = await hist("rust");
console.log(`all: twin ${twin.all.toFixed(1)} rust ${rust.all.toFixed(1)} µs/call`);
for (const kind of ["leaf", "incl"]) {
  const keys = new Set([...twin[kind].keys(), ...rust[kind].keys()]);
  const rows = [...keys].map((k) => [k, (rust[kind].get(k) ?? 0) - (twin[kind].get(k) ?? 0), rust[kind].get(k) ?? 0, twin[kind].get(k) ?? 0]);
  rows.sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
  console.log(`== ${kind}: rust - twin µs/call (rust, twin)`);
  for (const [k, d, r, t] of rows.slice(0, kind === "leaf" ? 45 : 30)) console.log(`${d.toFixed(2).padStart(7)}  ${r.toFixed(2).padStart(7)} ${t.toFixed(2).padStart(7)}  ${k.slice(0, 140)}`);
}
