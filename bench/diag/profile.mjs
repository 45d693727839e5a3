// Where the time goes: a V8 CPU profile of one capability Worker's isolate (through workerd's
// inspector) while the benchmark caller loops over one case. Diagnostics, not a benchmark.
//   node bench/diag/profile.mjs rust|twin create|list|big     (after scripts/bench.sh built dist/)
import WebSocket from "ws";
import { benchWorkers } from "../workers.mjs";
const target = process.argv[2] ?? "rust", kase = process.argv[3] ?? "list";
const mf = benchWorkers(["rust", "twin"], { inspectorPort: 9333 });
await mf.ready;
const list = await (await fetch("http://127.0.0.1:9333/json/list")).json();
const t = list.find((x) => x.title?.includes(target) || x.url?.includes(target)) ?? list.find((x) => JSON.stringify(x).includes(target));
const ws = new WebSocket(t.webSocketDebuggerUrl);
await new Promise((r) => ws.on("open", r));
let id = 0; const pending = new Map();
ws.on("message", (m) => { const msg = JSON.parse(m); if (pending.has(msg.id)) { pending.get(msg.id)(msg.result); pending.delete(msg.id); } });
const send = (method, params = {}) => new Promise((r) => { const i = ++id; pending.set(i, r); ws.send(JSON.stringify({ id: i, method, params })); });
await (await mf.dispatchFetch(`http://caller/?target=${target}&case=${kase}&n=500`)).json();
await send("Profiler.enable");
await send("Profiler.setSamplingInterval", { interval: 20 });
await send("Profiler.start");
const r = await (await mf.dispatchFetch(`http://caller/?target=${target}&case=${kase}&n=3000&c=${process.env.C ?? 1}`)).json();
const { profile } = await send("Profiler.stop");
const self = new Map(); let total = 0;
for (const n of profile.nodes) { const k = `${n.callFrame.functionName || "(anon)"} ${n.callFrame.url.split("/").pop()}:${n.callFrame.lineNumber}`; self.set(k, (self.get(k) ?? 0) + n.hitCount); total += n.hitCount; }
console.log(target, kase, "ms/call", r.ms / r.n, "samples", total);
const groups = new Map();
for (const [k, v] of self) { const g = k.includes(".wasm") || k.startsWith("wasm-function") ? "wasm" : k.startsWith("(") ? k.split(" ")[0] : k.includes(".js:") ? "js:" + k.split(" ").pop().split(":")[0] : "builtin:" + k.split(" ")[0]; groups.set(g, (groups.get(g) ?? 0) + v); }
console.log([...groups].sort((a, b) => b[1] - a[1]).map(([g, v]) => `${g} ${(100 * v / total).toFixed(1)}%`).join(", "));
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log((100 * v / total).toFixed(1).padStart(5) + "%", k);
ws.close(); await mf.dispose();
