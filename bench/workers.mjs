// The benchmark's workerd, one Miniflare: the caller (caller.js, where the loops run), the
// upstream (upstream.js, reached through `outboundService`, so nothing leaves the runtime) and the
// capabilities measured: the Rust Worker as built into dist/ and the plain-JS twin.
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.dirname(BENCH);
export const COMPAT = "2026-11-01";
export const KEY = "sk_test_bench_0000000000000000000000";

/// `targets`: any of "rust", "twin" and "bare" (the twin scanning nothing), bound in the caller
/// as RUST, TWIN and BARE. `dist`: the Rust
/// Worker's build (`wrangler deploy --dry-run --outdir`); `variants`: more builds of it to compare,
/// `{ name: dist }` (or a twin.js variant), each bound in the caller under its name in capitals (bench/diag/ab.mjs); other keys
/// go to Miniflare as they are.
export function benchWorkers(targets, { dist = path.join(ROOT, "dist", "stripe"), variants = {}, ...options } = {}) {
  const capability = (name, source) => ({ name, compatibilityDate: COMPAT, bindings: { STRIPE_API_KEY: KEY }, outboundService: "upstream", ...source });
  const workers = [
    { name: "caller", modules: true, scriptPath: path.join(BENCH, "caller.js"), compatibilityDate: COMPAT, outboundService: "upstream", serviceBindings: Object.fromEntries([...targets, ...Object.keys(variants)].map((t) => [t.toUpperCase(), t])) },
    { name: "upstream", modules: true, scriptPath: path.join(BENCH, "upstream.js"), compatibilityDate: COMPAT },
  ];
  const rust = (name, dir) => {
    // A variant of the twin (a .js file): what a change costs the plain-JS way.
    if (dir.endsWith(".js")) return workers.push(capability(name, { modules: true, scriptPath: dir }));
    const wasm = readdirSync(dir).find((f) => f.endsWith(".wasm"));
    workers.push(capability(name, { modulesRoot: dir, modules: [{ type: "ESModule", path: path.join(dir, "entry.js") }, { type: "CompiledWasm", path: path.join(dir, wasm) }] }));
  };
  if (targets.includes("rust")) rust("rust", dist);
  for (const [name, dir] of Object.entries(variants)) rust(name, dir);
  if (targets.includes("twin")) workers.push(capability("twin", { modules: true, scriptPath: path.join(BENCH, "twin.js") }));
  // The twin scanning nothing: what looking for credentials costs at all.
  if (targets.includes("bare")) workers.push(capability("bare", { modules: true, scriptPath: path.join(BENCH, "twin.js"), bindings: { STRIPE_API_KEY: KEY, TWIN_SCAN: "off" } }));
  return new Miniflare(convertV4MiniflareOptions({ cf: false, ...options, workers }));
}

/// One round in the caller: `n` calls per target, in turns of `block` calls (the order rotating
/// each pass), each target's turns summed: `{ target: ms }`.
/// `rounds` rounds (after one to warm up) of `n` calls per way of one target, in turns of
/// `block` (bench/caller.js `ways`): each round's `{ way: ms }`.
export async function wayRounds(mf, target, ways, { n, block, rounds }) {
  const ms = [];
  for (let r = 0; r < rounds + 1; r++) {
    const res = await mf.dispatchFetch(`http://caller/?target=${target}&ways=${ways.join(",")}&n=${n}&block=${block}`);
    const out = await res.json();
    if (out.error) throw new Error(out.error);
    if (r > 0) ms.push(out.ms); // the first round warms up
  }
  return ms;
}

export async function turns(mf, targets, name, n, block) {
  return (await lapped(mf, targets, name, n, block)).ms;
}

/// As `turns`, with each target's turns one by one as well: `{ ms, laps: { target: [ms, ...] } }`,
/// the i-th lap of every target from the same pass.
export async function lapped(mf, targets, name, n, block) {
  const res = await mf.dispatchFetch(`http://caller/?targets=${targets.join(",")}&case=${name}&n=${n}&block=${block}`);
  const out = await res.json();
  if (out.error) throw new Error(out.error);
  return out;
}
