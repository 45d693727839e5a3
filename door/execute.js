// `execute`: code mode. An agent's script (the body of an async function) runs in a sandbox
// Worker of its own, made for the one execution by the Worker Loader (`env.LOADER`), with one
// name in reach: `api`, the grant's capabilities under their names
// (`await api.stripe.customers.list({ limit: 3 })`), each call answering the envelope `call`
// answers, `{ ok, result | error, receipt }`.
//
// Where each thing lives, and why:
// - The sandbox (door/sandbox.js, its modules), loaded for the one execution, has no network
//   (`globalOutbound: null`: `fetch` and `connect` throw), no bindings but one stub, and
//   `limits` (CPU, subrequests) for production. Its stub is `ctx.exports.DoorExecution({ props: { execution } })`: a loopback
//   entrypoint of this Worker whose props name the execution. An RpcTarget put in a loaded
//   Worker's `env` does not clone; an entrypoint with props does, and the sandbox cannot read
//   the props, nor forge another execution's, nor reach anything but the entrypoint's methods.
// - The credential never enters the sandbox: `DoorExecution.call` runs here, in the door, and
//   makes the capability session exactly as `call` does (door/tools.js `callOperation`: the
//   grant's rights, its per-minute budget, a tenant's key unsealed only while the session is
//   made). The sandbox sends a name and JSON arguments, and gets the envelope back.
// - The door enforces, per execution, a wall-clock deadline (DOOR_EXECUTE_DEADLINE_MS) and a
//   call budget (DOOR_EXECUTE_MAX_CALLS), counted in the execution's record, which the props
//   name. Past the deadline the door answers without waiting for the sandbox and closes the
//   record, so a script still running can call nothing more. A synchronous endless loop never
//   yields to any timer: in production `limits.cpuMs` stops it (Miniflare does not enforce
//   `limits`, and such a loop there blocks the host's isolate too: docs/door.md).
// - What comes back is text the door parses: the script's value as JSON, its `console` lines,
//   and for a throw its message and the script's own stack frames. Receipts are the door's
//   record of the calls it made for the execution, not the sandbox's say.
import { WorkerEntrypoint } from "cloudflare:workers";
import { callOperation, cut, refusal, show } from "./tools.js";
import { HARNESS, scriptModule } from "./sandbox.js";

/** The sandbox's compatibility date: the door's own. */
export const SANDBOX_COMPATIBILITY_DATE = "2026-11-01";
/** Defaults, overridden by the vars DOOR_EXECUTE_DEADLINE_MS and DOOR_EXECUTE_MAX_CALLS. */
export const DEFAULT_DEADLINE_MS = 30_000;
export const DEFAULT_MAX_CALLS = 50;
/** The most characters of a script. */
export const MAX_CODE_CHARS = 50_000;
/** Production limits of a sandbox: CPU per execution, and subrequests (its calls, and a few). */
export const SANDBOX_CPU_MS = 1_000;
// How long past the deadline the door waits for the sandbox's own answer (which carries the
// logs so far) before answering without it.
const GRACE_MS = 250;

// The executions under way in this isolate, by id (a random UUID, alive while its execution
// runs): { env, grant, caps, calls, maxCalls, receipts, open }. A loopback entrypoint's call
// runs in the Worker that made its stub. Another Worker of the account bound to this
// entrypoint with props of its own would have to name a live execution's id to call anything.
const RUNS = new Map();

/** A positive whole number from a var, or the default. */
function setting(value, fallback) {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** The entrypoint the sandbox's stub reaches: one method, a call by qualified name. */
export class DoorExecution extends WorkerEntrypoint {
  /** Calls `name` with `argsJson` (a JSON list) for the execution the props name: an envelope. */
  async call(name, argsJson) {
    const run = RUNS.get(this.ctx.props?.execution);
    if (!run || !run.open) return refusal("invalid_argument", "this execution has ended (its deadline passed): nothing more is called for it");
    if (run.calls >= run.maxCalls) return refusal("rate_limited", `this execution's call budget is spent (${run.maxCalls} calls an execution); split the work over more executions`, { stage: "grant" });
    run.calls++;
    let args;
    try {
      args = typeof argsJson === "string" ? JSON.parse(argsJson) : null;
    } catch {
      args = null;
    }
    if (!Array.isArray(args)) return refusal("invalid_argument", "arguments are what JSON carries");
    let envelope;
    try {
      envelope = await callOperation(run.env, run.grant, run.caps, name, args);
    } catch {
      // A fault of the door's own (a grant that no longer unseals, a binding that threw): said
      // as such, with nothing of the host's error crossing into the sandbox.
      return refusal("internal", "the door could not make this call");
    }
    if (envelope?.receipt && run.open) run.receipts.push(envelope.receipt);
    return envelope;
  }
}

/** Parses the sandbox's answer (JSON text), or null when it is none. */
function answerOf(text) {
  try {
    const a = typeof text === "string" ? JSON.parse(text) : null;
    return a && typeof a === "object" ? a : null;
  } catch {
    return null;
  }
}

/** Runs `code` for `grant` over `caps`: the MCP tool result. */
export async function execute(env, ctx, grant, caps, code) {
  const text = (t, isError = false) => ({ content: [{ type: "text", text: cut(t) }], ...(isError ? { isError: true } : {}) });
  if (typeof code !== "string" || code.trim() === "") return text("execute takes { code: string }: the body of an async function, whose only reach is api", true);
  if (code.length > MAX_CODE_CHARS) return text(`a script is at most ${MAX_CODE_CHARS} characters`, true);
  const deadlineMs = setting(env.DOOR_EXECUTE_DEADLINE_MS, DEFAULT_DEADLINE_MS);
  const maxCalls = setting(env.DOOR_EXECUTE_MAX_CALLS, DEFAULT_MAX_CALLS);
  const id = crypto.randomUUID();
  const run = { env, grant, caps, calls: 0, maxCalls, receipts: [], open: true };
  RUNS.set(id, run);
  let timer;
  let answer;
  let failure;
  let worker;
  let entry;
  try {
    const sandbox = {
      compatibilityDate: SANDBOX_COMPATIBILITY_DATE,
      mainModule: "harness.js",
      modules: { "harness.js": HARNESS, "script.js": scriptModule(code) },
      env: { DOOR: ctx.exports.DoorExecution({ props: { execution: id } }) },
      globalOutbound: null,
      limits: { cpuMs: SANDBOX_CPU_MS, subRequests: maxCalls + 5 },
    };
    // Every script is new code: `load` is the loader's one-shot path (nothing to cache by id);
    // `get` with the execution's id where a runtime has no `load`.
    worker = typeof env.LOADER.load === "function" ? env.LOADER.load(sandbox) : env.LOADER.get(`door-execute-${id}`, () => sandbox);
    entry = worker.getEntrypoint();
    const late = new Promise((resolve) => (timer = setTimeout(() => resolve(null), deadlineMs + GRACE_MS)));
    const raw = await Promise.race([entry.run(caps.map((c) => c.capability), deadlineMs), late]);
    answer = raw === null ? { error: { message: `the script ran past its deadline (${deadlineMs} ms) and was stopped` } } : answerOf(raw);
    if (!answer) answer = { error: { message: "the sandbox answered nothing the door reads" } };
  } catch (e) {
    // The sandbox did not load (the script does not parse) or died: its message, no stack.
    // Its line numbers are the script's own (the module's first line is the function's head).
    failure = String(e?.message ?? e)
      .slice(0, 2_000)
      .replace(/script\.js:(\d+)/g, (_, n) => `script.js:${Number(n) - 1}`);
    answer = { error: { message: `the script did not run: ${failure}` } };
  } finally {
    clearTimeout(timer);
    run.open = false;
    RUNS.delete(id);
    // The stubs hold native handles: released now rather than left to the collector.
    for (const stub of [entry, worker]) {
      try {
        stub?.[Symbol.dispose]?.();
      } catch {
        // best effort: disposal never changes the answer
      }
    }
  }
  const out = {
    ok: !answer.error,
    ...(answer.error ? { error: answer.error } : { value: answer.value ?? null }),
    logs: Array.isArray(answer.logs) ? answer.logs : [],
    calls: run.calls,
    receipts: run.receipts,
  };
  return text(show(out), !out.ok);
}
