// Where a capability's per-call time goes, with the noise of everything else taken out: CPU
// samples (Linux `perf`, with V8's perf map) of the workerd process while the benchmark caller
// loops over one case, counting only samples whose stack runs through the capability's own code
// (its JS entry and wasm, or twin.js) and leaving out the upstream exchange both must pay for
// (`fetch()`, reading the body, response headers). Diagnostics, not a benchmark: run after
// `npm run bench` (or scripts/bench.sh) built dist/.
//   node bench/diag/own-cpu.mjs [create,list] [calls]
// End-to-end per-call figures move ±10 % between runs on these machines; this figure moves ±3 µs.
import path from "node:path";
import { WARM, havePerf, sampleCalls } from "./perf.mjs";
import { ROOT, benchWorkers } from "../workers.mjs";

if (process.argv[2] === "--child") {
  // One target, one case, looped inside workerd (the parent records this process with perf).
  const [, , , target, kase, n] = process.argv;
  const dist = process.env.OWN_CPU_DIST ? path.resolve(ROOT, process.env.OWN_CPU_DIST) : undefined;
  const mf = benchWorkers([target], { dist });
  for (const calls of [WARM, Number(n)]) {
    const out = await (await mf.dispatchFetch(`http://caller/?target=${target}&case=${kase}&n=${calls}`)).json();
    if (out.error) throw new Error(out.error);
  }
  await mf.dispose();
  process.exit(0);
}

if (!havePerf()) {
  console.log("own-cpu: needs Linux perf (`perf record`); not found, nothing measured");
  process.exit(0);
}
const cases = (process.argv[2] ?? "create,list").split(",");
const calls = Number(process.argv[3] ?? 20000);
const own = { rust: ["entry.js:", "wasm-function", "wasm-to-js", "js-to-wasm"], twin: ["twin.js:"] };
const exchange = ["ServiceWorkerGlobalScope::fetch", "Body::text", "Headers::get", "Response::getHeaders"];
const kinds = [
  ["wasm", (f) => f.includes("wasm-function") || f.includes("wasm-to-js") || f.includes("js-to-wasm") || f.includes("WasmLiftoff")],
  ["JSON", (f) => f.includes("JsonParser") || f.includes("JsonStringifier")],
  ["TextDecoder", (f) => f.includes("TextDecoder") || f.includes("IcuDecoder")],
  ["GC", (f) => f.includes("Scavenger") || f.includes("MarkCompact") || f.includes("Heap::")],
];

async function measure(target, kase) {
  const counts = { all: 0, own: 0, exchange: 0, wasm: 0, JSON: 0, TextDecoder: 0, GC: 0, js: 0 };
  const us = await sampleCalls({ root: ROOT, target, kase, calls }, (stack) => {
    counts.all++;
    if (!stack.some((f) => own[target].some((p) => f.includes(p)))) return;
    if (stack.some((f) => f.includes("caller.js:") || f.includes("upstream.js:"))) return;
    if (stack.some((f) => exchange.some((p) => f.includes(p)))) {
      counts.exchange++;
      return;
    }
    counts.own++;
    // Attribute to the first recognised frame from the leaf up; the capability's JS otherwise.
    const kind = stack.map((f) => kinds.find(([, test]) => test(f))?.[0]).find(Boolean) ?? "js";
    counts[kind]++;
  });
  return Object.fromEntries(Object.keys(counts).map((k) => [k, us(counts[k])]));
}

const rows = [];
for (const kase of cases) {
  for (const target of (process.env.OWN_CPU_TARGETS ?? "twin,rust").split(",")) {
    console.error(`own-cpu: ${target} ${kase} (${calls} calls under perf)`);
    rows.push({ target, kase, ...(await measure(target, kase)) });
  }
}
const f1 = (x) => x.toFixed(1);
console.log("| case | target | own CPU µs/call | wasm | JSON | TextDecoder | GC | JS and the rest | upstream exchange µs/call | all of workerd µs/call |");
console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of rows) console.log(`| ${r.kase} | ${r.target} | ${f1(r.own)} | ${f1(r.wasm)} | ${f1(r.JSON)} | ${f1(r.TextDecoder)} | ${f1(r.GC)} | ${f1(r.js)} | ${f1(r.exchange)} | ${f1(r.all)} |`);
