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

/// `targets`: any of "rust" and "twin", bound in the caller as RUST and TWIN. `dist`: the Rust
/// Worker's build (`wrangler deploy --dry-run --outdir`); other keys go to Miniflare as they are.
export function benchWorkers(targets, { dist = path.join(ROOT, "dist", "stripe"), ...options } = {}) {
  const capability = (name, source) => ({ name, compatibilityDate: COMPAT, bindings: { STRIPE_API_KEY: KEY }, outboundService: "upstream", ...source });
  const workers = [
    { name: "caller", modules: true, scriptPath: path.join(BENCH, "caller.js"), compatibilityDate: COMPAT, outboundService: "upstream", serviceBindings: Object.fromEntries(targets.map((t) => [t.toUpperCase(), t])) },
    { name: "upstream", modules: true, scriptPath: path.join(BENCH, "upstream.js"), compatibilityDate: COMPAT },
  ];
  if (targets.includes("rust")) {
    const wasm = readdirSync(dist).find((f) => f.endsWith(".wasm"));
    workers.push(capability("rust", { modulesRoot: dist, modules: [{ type: "ESModule", path: path.join(dist, "entry.js") }, { type: "CompiledWasm", path: path.join(dist, wasm) }] }));
  }
  if (targets.includes("twin")) workers.push(capability("twin", { modules: true, scriptPath: path.join(BENCH, "twin.js") }));
  return new Miniflare(convertV4MiniflareOptions({ cf: false, ...options, workers }));
}
