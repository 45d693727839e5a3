// Linux `perf` for the bench's diagnostics (own-cpu.mjs, first-call.mjs): record a child node
// process, whose workerd runs with V8's perf map, then hand each sample's stack to a callback.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";

export const havePerf = () => spawnSync("perf", ["--version"]).status === 0;

/// V8 writes a log per isolate (with its perf map) in workerd's cwd, the checkout's root, where
/// workerd must run to find the scripts: removed after each run.
export function removeIsolateLogs(root) {
  for (const f of readdirSync(root)) if (/^isolate-.*-v8\.log$/.test(f)) rmSync(path.join(root, f));
}

/// Runs `node script ...args` under `perf record` at `hz` samples per second and calls
/// `onSample(frames)` for each workerd sample, leaf first, each frame its symbol alone.
/// `OWN_CPU_V8_FLAGS` adds V8 flags to workerd's.
export async function sampleWorkerd({ root, script, args, hz }, onSample) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "capa-perf-"));
  try {
    const data = path.join(dir, "perf.data");
    const env = { ...process.env, MINIFLARE_WORKERD_V8_FLAGS: ["--perf-basic-prof", process.env.OWN_CPU_V8_FLAGS].filter(Boolean).join(" ") };
    const rec = spawnSync("perf", ["record", "-q", "-e", "cpu-clock", "-F", String(hz), "-g", "-o", data, "--", process.execPath, script, ...args], { cwd: root, env, stdio: ["ignore", "ignore", "pipe"] });
    removeIsolateLogs(root);
    if (rec.status !== 0) throw new Error(`perf record failed: ${rec.stderr}`);
    // `perf script` prints one stack per sample, blank-line separated: read it as a stream, since
    // a long run's text outgrows what one JS string may hold.
    const child = spawn("perf", ["script", "-i", data, "-F", "comm,ip,sym"], { stdio: ["ignore", "pipe", "ignore"] });
    const exited = new Promise((resolve) => child.on("close", resolve));
    let sample = [];
    const flush = () => {
      if (sample[0]?.startsWith("workerd")) onSample(sample.slice(1).map((l) => l.trim().replace(/^\S+\s+/, "")));
      sample = [];
    };
    for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
      if (line === "") flush();
      else sample.push(line);
    }
    flush();
    const code = await exited;
    if (code !== 0) throw new Error(`perf script failed (exit ${code})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/// The calls own-cpu.mjs's child makes before the measured ones: perf records the whole child, so
/// per-call figures divide by both.
export const WARM = 500;
const CALLS_HZ = 4000;

/// Samples workerd while own-cpu.mjs's child loops `calls` calls of one case on one target
/// (`rust` or `twin`), handing each stack to `onSample`; returns a converter from a sample count
/// to µs per call. own-cpu.mjs and diff-cpu.mjs both measure this way.
export async function sampleCalls({ root, target, kase, calls }, onSample) {
  const script = path.join(root, "bench", "diag", "own-cpu.mjs");
  await sampleWorkerd({ root, script, args: ["--child", target, kase, String(calls)], hz: CALLS_HZ }, onSample);
  return (samples) => (samples / CALLS_HZ / (WARM + calls)) * 1e6;
}
