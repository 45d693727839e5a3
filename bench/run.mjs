// The benchmark suite: bundle size, cold start, per-call cost, concurrency, generator speed,
// side by side in one run, printed as one table and written to bench/RESULTS.md.
// Run with `npm run bench` (scripts/bench.sh builds everything first). Not a test: no budgets
// fail here; the budgets are printed beside the figures.
import { readFileSync, readdirSync, writeFileSync, statSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { gzipSync } from "node:zlib";
import os from "node:os";
import path from "node:path";
import { median, paired } from "./stats.mjs";
import { BENCH, ROOT, benchWorkers, turns } from "./workers.mjs";
import { sessions } from "./sessions.mjs";

const N = Number(process.env.BENCH_N ?? 1000); // calls per target per round
const BLOCK = Number(process.env.BENCH_BLOCK ?? 50); // calls per turn within a round
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
const COLD_RUNS = Number(process.env.BENCH_COLD ?? 15);
// BENCH_ONLY=percall,cold,... runs only those sections (for quick iterations while profiling).
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(",")) : null;
const want = (section) => !ONLY || ONLY.has(section);
const targets = ["direct", "bare", "twin", "rust"];
const cases = process.env.BENCH_CASES ? process.env.BENCH_CASES.split(",") : ["create", "list", "big"];
const spread = ([lo, mid, hi], unit = "") => `${mid.toFixed(2)}${unit} (${lo.toFixed(2)}–${hi.toFixed(2)})`;
const kib = (bytes) => (bytes / 1024).toFixed(1);
const log = (...a) => console.error("bench:", ...a);

async function loop(mf, target, name, n, c = 1) {
  const res = await mf.dispatchFetch(`http://caller/?target=${target}&case=${name}&n=${n}&c=${c}`);
  const out = await res.json();
  if (out.error) throw new Error(out.error);
  return out.ms;
}

// ---------------------------------------------------------------------------------------------
const results = { date: new Date().toISOString(), machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB` };

if (want("bundle")) {
  log("bundle sizes");
  results.bundle = {};
  for (const provider of ["stripe", "github", "twitch", "petstore"]) {
    const out = readFileSync(path.join(ROOT, "dist", `${provider}.build.log`), "utf8");
    const m = out.match(/Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/);
    const dir = path.join(ROOT, "dist", provider);
    const wasm = readFileSync(path.join(dir, readdirSync(dir).find((f) => f.endsWith(".wasm"))));
    const entry = readFileSync(path.join(dir, "entry.js"));
    results.bundle[provider] = {
      uploadKiB: Number(m[1]),
      uploadGzipKiB: Number(m[2]),
      wasmKiB: Number(kib(wasm.length)),
      wasmGzipKiB: Number(kib(gzipSync(wasm).length)),
      jsKiB: Number(kib(entry.length)),
      jsGzipKiB: Number(kib(gzipSync(entry).length)),
    };
  }
  {
    const twin = execFileSync(path.join(ROOT, "node_modules/.bin/esbuild"), [path.join(BENCH, "twin.js"), "--bundle", "--minify", "--format=esm", "--external:cloudflare:*"]);
    results.bundle.twin = { uploadKiB: Number(kib(twin.length)), uploadGzipKiB: Number(kib(gzipSync(twin).length)) };
  }
}
if (want("generator")) {
  log("generator");
  results.generator = [];
  for (const spec of ["openapi/stripe/spec3.json", "openapi/github/api.github.com.octokit-23.0.2.json"]) {
    const file = path.join(ROOT, spec);
    try {
      statSync(file);
    } catch {
      continue;
    }
    const measured = [];
    for (let i = 0; i < 3; i++) {
      const r = execFileSync("sh", ["-c", `/usr/bin/time -f "TIME %e %M" "${path.join(ROOT, "target/release/capa-gen")}" stats "${file}" 2>&1`], { encoding: "utf8" });
      const stats = JSON.parse(r.split("\n").find((l) => l.startsWith("{")));
      const [, secs, kb] = r.match(/TIME ([\d.]+) (\d+)/);
      measured.push({ ...stats, wallMs: Number(secs) * 1000, peakMiB: Number(kb) / 1024 });
    }
    const pick = (k) => median(measured.map((m) => m[k]));
    results.generator.push({ spec: measured[0].spec, operations: measured[0].operations, parseMs: pick("parse_ms"), modelMs: pick("model_ms"), namesMs: pick("names_ms"), wallMs: pick("wallMs"), peakMiB: pick("peakMiB") });
  }
}
if (want("types")) {
  // index.d.ts per provider, and `tsc --noEmit --strict` on its sample caller (tests/types/),
  // typed through workers-types' Service<...>: median of 5 runs.
  log("types");
  results.types = {};
  const tsc = path.join(ROOT, "node_modules", ".bin", "tsc");
  for (const provider of ["stripe", "github", "twitch", "petstore"]) {
    const dts = readFileSync(path.join(ROOT, "generated", provider, "index.d.ts"));
    const runs = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      execFileSync(tsc, ["--noEmit", "--strict", "--target", "es2022", "--lib", "esnext", "--module", "esnext", "--moduleResolution", "bundler", "--types", "@cloudflare/workers-types", path.join(ROOT, "tests", "types", `${provider}.ts`)], { cwd: ROOT });
      runs.push(performance.now() - t);
    }
    runs.sort((a, b) => a - b);
    results.types[provider] = { dtsKiB: +(dts.length / 1024).toFixed(1), dtsGzipKiB: +(gzipSync(dts).length / 1024).toFixed(1), tscMs: Math.round(runs[2]) };
  }
}

if (want("cold")) {
  log(`cold start (${COLD_RUNS} runs each, alternating)`);
  const cold = { rust: { ready: [], first: [] }, twin: { ready: [], first: [] } };
  for (let i = 0; i < COLD_RUNS; i++) {
    for (const target of i % 2 ? ["twin", "rust"] : ["rust", "twin"]) {
      const t0 = performance.now();
      const mf = benchWorkers([target]);
      await mf.ready;
      const t1 = performance.now();
      await loop(mf, target, "list", 1);
      const t2 = performance.now();
      cold[target].ready.push(t1 - t0);
      cold[target].first.push(t2 - t1);
      await mf.dispose();
    }
  }
  // GitHub's Worker (1,223 operations: about twice Stripe's table), its first call beside Stripe's.
  const github = path.join(ROOT, "dist", "github");
  try {
    statSync(github);
    cold.github = { ready: [], first: [] };
    for (let i = 0; i < COLD_RUNS; i++) {
      const t0 = performance.now();
      const mf = benchWorkers([], { variants: { github } });
      await mf.ready;
      const t1 = performance.now();
      await loop(mf, "github", "github", 1);
      cold.github.ready.push(t1 - t0);
      cold.github.first.push(performance.now() - t1);
      await mf.dispose();
    }
  } catch (e) {
    if (e.code !== "ENOENT") throw e;
  }
  results.cold = Object.fromEntries(Object.entries(cold).map(([k, v]) => [k, { readyMs: median(v.ready), firstCallMs: median(v.first) }]));
  results.cold.ratio = { ready: paired(cold.rust.ready, cold.twin.ready), first: paired(cold.rust.first, cold.twin.first) };
}
if (want("percall") || want("concurrency")) {
  log(`per call (${N} sequential calls per target per round, in turns of ${BLOCK}; ${ROUNDS} rounds, median)`);
  const mf = benchWorkers(["rust", "twin", "bare"]);
  await mf.ready;
  for (const name of cases) for (const t of targets) await loop(mf, t, name, 50); // warm up
  if (want("percall")) {
    const perCall = Object.fromEntries(cases.map((c) => [c, Object.fromEntries(targets.map((t) => [t, []]))]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of cases) {
        const ms = await turns(mf, round % 2 ? [...targets].reverse() : targets, name, N, BLOCK);
        for (const t of targets) perCall[name][t].push(ms[t] / N);
      }
    }
    results.perCall = Object.fromEntries(cases.map((c) => [c, Object.fromEntries(targets.map((t) => [t, median(perCall[c][t])]))]));
    for (const c of cases) {
      results.perCall[c].ratio = paired(perCall[c].rust, perCall[c].twin);
      results.perCall[c].ratioBare = paired(perCall[c].rust, perCall[c].bare);
      results.perCall[c].rounds = perCall[c];
    }
  }
  if (want("concurrency")) {
    log("concurrency (50 concurrent callers)");
    results.concurrency = {};
    const calls = Math.max(N * 2, 1000);
    const runs = Object.fromEntries(targets.map((t) => [t, []]));
    for (let i = 0; i < 5; i++) {
      for (const t of i % 2 ? [...targets].reverse() : targets) runs[t].push(await loop(mf, t, "list", calls, 50));
    }
    for (const t of targets) results.concurrency[t] = { calls, perSecond: Math.round(calls / (median(runs[t]) / 1000)) };
  }
  await mf.dispose();
}
if (want("sessions")) {
  log(`sessions (customers.list four ways, ${N} calls each per round in turns; ${ROUNDS} rounds)`);
  results.sessions = await sessions({ n: N, block: BLOCK, rounds: ROUNDS });
}
// ---------------------------------------------------------------------------------------------
const f2 = (x) => x.toFixed(3);
const lines = [];
const row = (...cells) => lines.push(`| ${cells.join(" | ")} |`);
lines.push(`# capa-rs benchmark results`, "", `${results.date} · ${results.machine} · workerd via Miniflare, upstream a JS Worker via outboundService.`, "");
if (results.bundle) {
  lines.push("## Bundle (budget: ≤ 150 KiB gzip; GitHub ≤ 200)", "");
  row("worker", "upload", "upload gzip", "wasm", "wasm gzip", "JS entry", "JS entry gzip");
  row("---", "---:", "---:", "---:", "---:", "---:", "---:");
  for (const [k, b] of Object.entries(results.bundle)) row(k, `${b.uploadKiB} KiB`, `${b.uploadGzipKiB} KiB`, b.wasmKiB ? `${b.wasmKiB} KiB` : "–", b.wasmGzipKiB ? `${b.wasmGzipKiB} KiB` : "–", b.jsKiB ? `${b.jsKiB} KiB` : "–", b.jsGzipKiB ? `${b.jsGzipKiB} KiB` : "–");
  lines.push("", "(`twin`: the plain-JS twin in bench/twin.js, three operations only, esbuild-minified.)", "");
}
if (results.types) {
  lines.push("## Types (index.d.ts, and tsc --noEmit --strict on a sample caller through Service<...>)", "");
  row("provider", "index.d.ts", "gzip", "tsc (ms)");
  row("---", "---:", "---:", "---:");
  for (const [k, t] of Object.entries(results.types)) row(k, `${t.dtsKiB} KiB`, `${t.dtsGzipKiB} KiB`, t.tscMs);
  lines.push("");
}
if (results.cold) {
  lines.push("## Cold start (budget: Rust ≤ 1.5× twin)", "");
  row("worker", "Miniflare ready (ms)", "first call (ms)");
  row("---", "---:", "---:");
  for (const k of ["rust", "twin", "github"]) if (results.cold[k]) row(k === "rust" ? "rust (stripe)" : k, results.cold[k].readyMs.toFixed(1), results.cold[k].firstCallMs.toFixed(1));
  row("rust / twin", spread(results.cold.ratio.ready, "×"), spread(results.cold.ratio.first, "×"));
  lines.push("", `Medians of ${COLD_RUNS} runs each, alternating; the ratio is the median of the runs' paired ratios (quartiles in brackets).`, "");
}
if (results.perCall) {
  lines.push("", `## Per call (budget: Rust ≤ 1.05× the twin, ≤ 1.10× bare; ≤ 0.3 ms over direct for the small ones)`, "");
  lines.push(`Mean ms per call, median of ${ROUNDS} rounds; in each round every target makes ${N} sequential calls in turns of ${BLOCK}, so all share the same stretch of time. \`rust / twin\` is the median of the rounds' paired ratios, quartiles in brackets. \`bare\` is the twin scanning nothing.`, "");
  row("case", "direct (ms)", "bare (ms)", "twin (ms)", "rust (ms)", "rust / twin", "rust / bare", "rust − direct (ms)", "twin − direct (ms)");
  row("---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:");
  const caseName = { create: "paymentIntents.create (form)", list: "customers.list (deepObject)", big: "customers.list, 200 KB response" };
  for (const c of cases) {
    const p = results.perCall[c];
    row(caseName[c], f2(p.direct), f2(p.bare), f2(p.twin), f2(p.rust), spread(p.ratio), spread(p.ratioBare), f2(p.rust - p.direct), f2(p.twin - p.direct));
  }
}
if (results.sessions) {
  lines.push("", "## Sessions: customers.list through the Rust Worker, four ways (src/grant.rs)", "");
  lines.push("Median ms per call; the ratio is to the plain call, the median of per-round paired ratios (quartiles in brackets). `held`: a session made once (`withAuth`), then called; `pipelined`: `withAuth(...).customers.list()` each time, one round trip that also makes the session.", "");
  row("way", "ms per call", "/ plain");
  row("---", "---:", "---:");
  for (const [w, v] of Object.entries(results.sessions)) row(w, f2(v.ms), spread(v.ratio));
}
if (results.concurrency) {
  lines.push("", "## Concurrency: 50 concurrent callers, customers.list", "");
  row("target", "calls", "calls/s");
  row("---", "---:", "---:");
  for (const [k, c] of Object.entries(results.concurrency)) row(k, c.calls, c.perSecond);
}
if (results.generator) {
  lines.push("", "## Generator (budget: ≤ 1 s and ≤ 300 MB on GitHub's spec)", "");
  row("spec", "operations", "parse (ms)", "model (ms)", "names (ms)", "wall (ms)", "peak RSS (MiB)");
  row("---", "---:", "---:", "---:", "---:", "---:", "---:");
  for (const g of results.generator) row(g.spec, g.operations, g.parseMs.toFixed(0), g.modelMs.toFixed(0), g.namesMs.toFixed(0), g.wallMs.toFixed(0), g.peakMiB.toFixed(0));
}
lines.push("", "<details><summary>raw</summary>", "", "```json", JSON.stringify(results, null, 2), "```", "</details>", "");
const md = lines.join("\n");
if (!ONLY) writeFileSync(path.join(BENCH, "RESULTS.md"), md);
console.log(md.split("<details>")[0]);
