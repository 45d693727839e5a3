// Where a cold Worker's first call goes: CPU samples (Linux `perf`, with V8's perf map) of the
// whole run, from workerd's start through one `customers.list` call, split into start-up (the
// Worker being compiled and its module evaluated) and the first request, and within each into
// wasm compilation and the rest. Diagnostics, not a benchmark: run after `npm run bench` (or
// scripts/bench.sh) built dist/.
//   node bench/diag/first-call.mjs [runs]     (OWN_CPU_V8_FLAGS adds V8 flags, e.g. --no-wasm-lazy-compilation)
// Under perf, V8 writes every compiled function to its perf map, so compilation reads slower here
// than it runs; compare the phases and the targets, not these figures with the bench's.
import { fileURLToPath } from "node:url";
import { havePerf, sampleWorkerd } from "./perf.mjs";
import { ROOT, benchWorkers } from "../workers.mjs";

const HZ = 20000;

if (process.argv[2] === "--child") {
  // One cold start and one call; the parent records this process with perf.
  const target = process.argv[3];
  const mf = benchWorkers([target]);
  await mf.ready;
  const out = await (await mf.dispatchFetch(`http://caller/?target=${target}&case=list&n=1`)).json();
  if (out.error) throw new Error(out.error);
  await mf.dispose();
  process.exit(0);
}

if (!havePerf()) {
  console.log("first-call: needs Linux perf (`perf record`); not found, nothing measured");
  process.exit(0);
}
const runs = Number(process.argv[2] ?? 5);

async function measure(target) {
  const counts = { "start-up: wasm compile": 0, "start-up: the rest": 0, "first call: wasm compile": 0, "first call: the rest": 0 };
  for (let run = 0; run < runs; run++) {
    await sampleWorkerd({ root: ROOT, script: fileURLToPath(import.meta.url), args: ["--child", target], hz: HZ }, (stack) => {
      // Start-up runs under the Worker's compilation and construction; a request under its lock.
      const all = stack.join("\n");
      const phase = /compileWorker|workerd::Worker::Worker/.test(all) ? "start-up" : all.includes("workerd::Worker::AsyncLock") ? "first call" : null;
      if (!phase) return;
      const compiling = stack.some((f) => f.includes("v8::internal::wasm::") && /Compile|Liftoff|Decoder/.test(f));
      counts[`${phase}: ${compiling ? "wasm compile" : "the rest"}`]++;
    });
  }
  return Object.fromEntries(Object.entries(counts).map(([k, n]) => [k, (n / HZ / runs) * 1000]));
}

const rows = [];
for (const target of ["twin", "rust"]) {
  console.error(`first-call: ${target} (${runs} cold starts under perf)`);
  rows.push([target, await measure(target)]);
}
const keys = Object.keys(rows[0][1]);
console.log(`| target | ${keys.map((k) => `${k} (ms)`).join(" | ")} |`);
console.log(`| --- | ${keys.map(() => "---:").join(" | ")} |`);
for (const [target, ms] of rows) console.log(`| ${target} | ${keys.map((k) => ms[k].toFixed(2)).join(" | ")} |`);
