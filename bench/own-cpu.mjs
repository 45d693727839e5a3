// Where a capability's per-call time goes, with the noise of everything else taken out: CPU
// samples (Linux `perf`, with V8's perf map) of the workerd process while the benchmark caller
// loops over one case, counting only samples whose stack runs through the capability's own code
// (its JS entry and wasm, or twin.js) and leaving out the upstream exchange both must pay for
// (`fetch()`, reading the body, response headers). Diagnostics, not a benchmark: run after
// `npm run bench` (or scripts/bench.sh) built dist/.
//   node bench/own-cpu.mjs [create,list] [calls]
// End-to-end per-call figures move ±10 % between runs on these machines; this figure moves ±3 µs.
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);
const COMPAT = "2026-11-01";
const KEY = "sk_test_bench_0000000000000000000000";
const WARM = 500;
const HZ = 4000;

if (process.argv[2] === "--child") {
  // One target, one case, looped inside workerd (the parent records this process with perf).
  const [, , , target, kase, n] = process.argv;
  const dist = process.env.OWN_CPU_DIST ? path.resolve(ROOT, process.env.OWN_CPU_DIST) : path.join(ROOT, "dist", "stripe");
  const wasm = readdirSync(dist).find((f) => f.endsWith(".wasm"));
  const source =
    target === "rust"
      ? { modulesRoot: dist, modules: [{ type: "ESModule", path: path.join(dist, "entry.js") }, { type: "CompiledWasm", path: path.join(dist, wasm) }] }
      : { modules: true, scriptPath: path.join(BENCH, "twin.js") };
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      cf: false,
      workers: [
        { name: "caller", modules: true, scriptPath: path.join(BENCH, "caller.js"), compatibilityDate: COMPAT, outboundService: "upstream", serviceBindings: { [target.toUpperCase()]: target } },
        { name: "upstream", modules: true, scriptPath: path.join(BENCH, "upstream.js"), compatibilityDate: COMPAT },
        { name: target, compatibilityDate: COMPAT, bindings: { STRIPE_API_KEY: KEY }, outboundService: "upstream", ...source },
      ],
    }),
  );
  for (const calls of [WARM, Number(n)]) {
    const out = await (await mf.dispatchFetch(`http://caller/?target=${target}&case=${kase}&n=${calls}`)).json();
    if (out.error) throw new Error(out.error);
  }
  await mf.dispose();
  process.exit(0);
}

if (spawnSync("perf", ["--version"]).status !== 0) {
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
  const dir = mkdtempSync(path.join(os.tmpdir(), "capa-own-cpu-"));
  const data = path.join(dir, "perf.data");
  const env = { ...process.env, MINIFLARE_WORKERD_V8_FLAGS: ["--perf-basic-prof", process.env.OWN_CPU_V8_FLAGS].filter(Boolean).join(" ") };
  const rec = spawnSync("perf", ["record", "-q", "-e", "cpu-clock", "-F", String(HZ), "-g", "-o", data, "--", process.execPath, fileURLToPath(import.meta.url), "--child", target, kase, String(calls)], { cwd: ROOT, env, stdio: ["ignore", "ignore", "pipe"] });
  // V8 writes a log per isolate next to the perf map; workerd needs the scripts under its cwd.
  for (const f of readdirSync(ROOT)) if (/^isolate-.*-v8\.log$/.test(f)) rmSync(path.join(ROOT, f));
  if (rec.status !== 0) throw new Error(`perf record failed: ${rec.stderr}`);
  const counts = { all: 0, own: 0, exchange: 0, wasm: 0, JSON: 0, TextDecoder: 0, GC: 0, js: 0 };
  const total = WARM + calls;
  const count = (lines) => {
    if (!lines[0]?.startsWith("workerd")) return;
    counts.all++;
    const stack = lines.slice(1).map((l) => l.trim().replace(/^\S+\s+/, ""));
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
  };
  // `perf script` prints one stack per sample, blank-line separated: read it as a stream, since a
  // long run's text outgrows what one JS string may hold.
  const script = spawn("perf", ["script", "-i", data, "-F", "comm,tid,ip,sym"], { stdio: ["ignore", "pipe", "ignore"] });
  const exited = new Promise((resolve) => script.on("close", resolve));
  let sample = [];
  for await (const line of createInterface({ input: script.stdout, crlfDelay: Infinity })) {
    if (line === "") {
      count(sample);
      sample = [];
    } else sample.push(line);
  }
  count(sample);
  const code = await exited;
  rmSync(dir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`perf script failed (exit ${code})`);
  const us = (k) => (counts[k] / HZ / total) * 1e6;
  return Object.fromEntries(Object.keys(counts).map((k) => [k, us(k)]));
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
