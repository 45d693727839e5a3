// What a cold Worker's first call compiles: every function V8 compiles for the first
// `customers.list` after start-up, read from V8's perf map (`--perf-basic-prof`, which lists each
// code object as it is made, with its size), so the figure is a count, not a sample: the same
// build gives the same answer run after run. For weighing a change to the first call's wasm
// before timing cold starts (whose figures move by ±10 %).
//   node bench/diag/first-compile.mjs [dist-dir] [top]     (default dist/stripe, 25)
// Function names need a build that keeps the wasm names section: `CAPA_WASM_NAMES=1
// scripts/build.sh stripe`, then `wrangler deploy --dry-run --outdir <dir> --env stripe`
// (without it, functions are named by index). Linux only (V8 writes the map to /tmp).
import { readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { removeIsolateLogs } from "./perf.mjs";
import { ROOT, benchWorkers } from "../workers.mjs";

const dist = path.resolve(ROOT, process.argv[2] ?? "dist/stripe");
const top = Number(process.argv[3] ?? 25);
if (process.platform !== "linux") {
  console.log("first-compile: needs V8's perf map in /tmp (Linux); nothing measured");
  process.exit(0);
}

const maps = () => new Set(readdirSync("/tmp").filter((f) => /^perf-\d+\.map$/.test(f)));
const before = maps();
process.env.MINIFLARE_WORKERD_V8_FLAGS = ["--perf-basic-prof", process.env.MINIFLARE_WORKERD_V8_FLAGS].filter(Boolean).join(" ");
const mf = benchWorkers([], { variants: { cold: dist } });
const ours = [];
try {
  await mf.ready;
  // Let start-up's background work settle before the map is read.
  await new Promise((resolve) => setTimeout(resolve, 500));
  for (const f of maps()) if (!before.has(f)) ours.push({ file: `/tmp/${f}`, startup: statSync(`/tmp/${f}`).size });
  const out = await (await mf.dispatchFetch("http://caller/?target=cold&case=list&n=1")).json();
  if (out.error) throw new Error(out.error);
  await new Promise((resolve) => setTimeout(resolve, 500));
} finally {
  await mf.dispose();
}

// Map lines: `<address> <size, hex> <name>`; wasm functions end in `-liftoff` or `-turbofan`.
const entries = (text) =>
  text
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [, size, ...name] = line.split(" ");
      return { size: parseInt(size, 16), name: name.join(" ") };
    });
const wasm = (list) => list.filter((e) => /-(liftoff|turbofan)$/.test(e.name));
for (const { file, startup } of ours) {
  const text = readFileSync(file, "utf8");
  const first = wasm(entries(text.slice(startup)));
  if (first.length === 0) continue;
  const atStart = wasm(entries(text.slice(0, startup)));
  const bytes = first.reduce((sum, e) => sum + e.size, 0);
  console.log(`${path.relative(ROOT, dist)}: the first call compiled ${first.length} wasm functions, ${(bytes / 1024).toFixed(1)} KiB of machine code`);
  // Liftoff code compiled at start-up does not last until the first request (V8 flushes it:
  // bench/README.md), so a function both lists name was compiled twice.
  const earlier = new Set(atStart.map((e) => e.name));
  console.log(`(start-up compiled ${atStart.length}, ${first.filter((e) => earlier.has(e.name)).length} of them compiled again by the first call)`);
  for (const e of first.sort((a, b) => b.size - a.size).slice(0, top)) console.log(`${String(e.size).padStart(8)}  ${e.name.replace(/^JS:/, "").slice(0, 120)}`);
}
for (const f of maps()) if (!before.has(f)) rmSync(`/tmp/${f}`, { force: true });
removeIsolateLogs(ROOT);
