// Where builds differ inside the capability's own isolate: V8 CPU profiles (workerd's inspector,
// as profile.mjs takes them) of each build while the caller loops one case on it, alternating
// builds `reps` times, as µs of samples per call by self function. Only the capability's isolate
// is sampled, so the caller, the upstream and other work on the machine weigh less than in wall
// time. A diagnostic, not a benchmark.
//   node bench/diag/ab-profile.mjs base=<dist> new=<dist> [create|list] [calls] [reps]
import path from "node:path";
import WebSocket from "ws";
import { ROOT, benchWorkers } from "../workers.mjs";

const variants = Object.fromEntries(process.argv.slice(2).filter((a) => a.includes("=")).map((a) => a.split("=")).map(([k, v]) => [k, path.resolve(ROOT, v)]));
const [kase = "create", calls = "3000", reps = "3"] = process.argv.slice(2).filter((a) => !a.includes("="));
const INTERVAL = 25;
const mf = benchWorkers([], { variants, inspectorPort: 9334 });
await mf.ready;
const list = await (await fetch("http://127.0.0.1:9334/json/list")).json();
const sockets = {};
for (const name of Object.keys(variants)) {
  const t = list.find((x) => JSON.stringify(x).includes(`"${name}"`) || x.title?.endsWith(name)) ?? list.find((x) => JSON.stringify(x).includes(name));
  const ws = new WebSocket(t.webSocketDebuggerUrl);
  await new Promise((r) => ws.on("open", r));
  let id = 0;
  const pending = new Map();
  ws.on("message", (m) => {
    const msg = JSON.parse(m);
    if (pending.has(msg.id)) (pending.get(msg.id)(msg.result), pending.delete(msg.id));
  });
  sockets[name] = (method, params = {}) => new Promise((r) => { const i = ++id; pending.set(i, r); ws.send(JSON.stringify({ id: i, method, params })); });
  sockets[name].ws = ws;
  await sockets[name]("Profiler.enable");
  await sockets[name]("Profiler.setSamplingInterval", { interval: INTERVAL });
}
const run = (target, n) => mf.dispatchFetch(`http://caller/?targets=${target}&case=${kase}&n=${n}&block=${n}`).then((r) => r.json());
const totals = Object.fromEntries(Object.keys(variants).map((k) => [k, { us: [], self: new Map() }]));
for (const name of Object.keys(variants)) await run(name, 500);
for (let r = 0; r < Number(reps); r++) {
  for (const name of Object.keys(variants)) {
    const send = sockets[name];
    await send("Profiler.start");
    await run(name, Number(calls));
    const { profile } = await send("Profiler.stop");
    let busy = 0;
    for (const n of profile.nodes) {
      const fn = n.callFrame.functionName || "(anon)";
      if (fn === "(idle)") continue;
      busy += n.hitCount;
      const k = `${fn} ${n.callFrame.url.split("/").pop()}:${n.callFrame.lineNumber}:${n.callFrame.columnNumber}`;
      totals[name].self.set(k, (totals[name].self.get(k) ?? 0) + n.hitCount);
    }
    // samples → µs per call: each sample stands for about INTERVAL µs of the isolate's time.
    totals[name].us.push((busy * INTERVAL) / Number(calls));
  }
}
const names = Object.keys(variants);
for (const name of names) console.log(`${name.padEnd(8)} µs/call sampled in its isolate: ${totals[name].us.map((x) => x.toFixed(1)).join(" ")}`);
if (names.length === 2) {
  const [a, b] = names;
  const per = (name, k) => ((totals[name].self.get(k) ?? 0) * INTERVAL) / (Number(calls) * Number(reps));
  const keys = new Set([...totals[a].self.keys(), ...totals[b].self.keys()]);
  const rows = [...keys].map((k) => [k, per(b, k) - per(a, k), per(b, k), per(a, k)]).sort((x, y) => Math.abs(y[1]) - Math.abs(x[1]));
  console.log(`== self: ${b} - ${a} µs/call (${b}, ${a})`);
  for (const [k, d, x, y] of rows.slice(0, 40)) console.log(`${d.toFixed(2).padStart(7)}  ${x.toFixed(2).padStart(7)} ${y.toFixed(2).padStart(7)}  ${k.slice(0, 120)}`);
}
for (const s of Object.values(sockets)) s.ws.close();
await mf.dispose();
