// Many pages in one call (src/pages.rs, docs/pages.md) against the calls a caller would make
// without it: 1,000 customers over 10 pages of 100, read by one `options.pages` call or by ten
// calls threading `starting_after`, in turns within every round (one workerd, the Rust Worker as
// built into dist/stripe). Reported as median ms per 1,000 items and the ratio to the ten calls,
// and the capability isolate's peak JS heap during each way (`heapPeaks`).
//   node bench/pages.mjs            (BENCH_N walks per way per round, BENCH_ROUNDS rounds)
import WebSocket from "ws";
import { paired, quartiles } from "./stats.mjs";
import { benchWorkers, wayRounds } from "./workers.mjs";

const WAYS = ["pages", "tenCalls"];

export async function pages({ n = 20, block = 5, rounds = 7 } = {}) {
  const mf = benchWorkers(["rust"]);
  let ms;
  try {
    await mf.ready;
    ms = await wayRounds(mf, "rust", WAYS, { n, block, rounds });
  } finally {
    await mf.dispose();
  }
  return Object.fromEntries(WAYS.map((w) => [w, { ms: quartiles(ms.map((m) => m[w] / n))[1], ratio: paired(ms.map((m) => m[w]), ms.map((m) => m.tenCalls)) }]));
}

/// The capability isolate's JS heap (V8's used size and workerd's embedder heap) at its peak
/// during one walk of each way, `runs` times each, through workerd's inspector: a heap usage read
/// is answered whenever the isolate yields (at each of the walk's awaits: 7–30 reads a walk), so
/// this is the peak at those points, not between them. Median MiB, `{ way: { start, peak } }`.
/// (The wasm instance's linear memory is not in these figures; it grows to the largest page
/// body and result held at once and is kept for later calls. `HeapProfiler.collectGarbage`
/// never answers here, so runs start from whatever the last left.)
export async function heapPeaks({ runs = 9, port = 9334 } = {}) {
  const mf = benchWorkers(["rust"], { inspectorPort: port });
  const out = {};
  try {
    await mf.ready;
    const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
    const ws = new WebSocket(targets.find((x) => x.title?.endsWith(":rust")).webSocketDebuggerUrl);
    await new Promise((r) => ws.on("open", r));
    let id = 0;
    const pending = new Map();
    ws.on("message", (m) => {
      const msg = JSON.parse(m);
      pending.get(msg.id)?.(msg.result);
      pending.delete(msg.id);
    });
    const usage = () => new Promise((r) => pending.set(++id, r) && ws.send(JSON.stringify({ id, method: "Runtime.getHeapUsage" })));
    const heap = (u) => (u.usedSize + u.embedderHeapUsedSize) / 1048576;
    const way = (w) => mf.dispatchFetch(`http://caller/?target=rust&ways=${w}&n=1&block=1`).then((r) => r.json());
    for (const w of WAYS) await way(w);
    const seen = Object.fromEntries(WAYS.map((w) => [w, { start: [], peak: [] }]));
    for (let i = 0; i < runs; i++) {
      for (const w of WAYS) {
        const start = heap(await usage());
        let peak = start;
        let done = false;
        const walk = way(w).then(() => (done = true));
        while (!done) peak = Math.max(peak, heap(await usage()));
        await walk;
        seen[w].start.push(start);
        seen[w].peak.push(peak);
      }
    }
    ws.close();
    for (const w of WAYS) out[w] = { start: quartiles(seen[w].start)[1], peak: quartiles(seen[w].peak)[1] };
  } finally {
    await mf.dispose();
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = await pages({ n: Number(process.env.BENCH_N ?? 20), rounds: Number(process.env.BENCH_ROUNDS ?? 7) });
  for (const [w, { ms, ratio }] of Object.entries(out)) {
    console.log(`${w.padEnd(9)} ${ms.toFixed(2)} ms per 1,000 items  / ten calls ${ratio[1].toFixed(3)} (${ratio[0].toFixed(3)}–${ratio[2].toFixed(3)})`);
  }
  for (const [w, { start, peak }] of Object.entries(await heapPeaks())) {
    console.log(`${w.padEnd(9)} JS heap ${start.toFixed(2)} MiB at the start, ${peak.toFixed(2)} MiB at its peak (median of 9)`);
  }
}
