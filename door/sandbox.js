// The modules of an `execute` sandbox (door/execute.js loads them with the Worker Loader):
// `harness.js`, the same for every execution, and `script.js`, the agent's code as the body of
// an async function taking `api`.
//
// The harness's code is `runScript` below, text that runs in the sandbox and:
// - builds `api`: per capability a proxy whose every property path is an operation's name
//   (`api.stripe.customers.list`) and whose call sends the name and the arguments as JSON to
//   the door's stub, answering a plain promise of the envelope; `then` and `toJSON` are no
//   names, so `await api.stripe` and `JSON.stringify(api)` do no call, and a node prints as
//   its name (`String(api.stripe.customers)` is "api.stripe.customers");
// - captures `console` (log, info, debug; warn and error prefixed), at most 500 lines and
//   24,000 characters, then counts what it dropped;
// - races the script against the deadline, so that a script that awaits past it answers with
//   its logs so far;
// - answers one JSON text: the script's value (binary shown by its size, what JSON cannot carry
//   noted), its logs, or for a throw its message and the frames of `script.js` alone, with the
//   script's own line numbers. Nothing of the harness or the host is in that stack.

/** The script's module: `code` as the body of the async function the harness calls. */
export function scriptModule(code) {
  return `export default async function script(api) {\n${code}\n}\n`;
}

// Shipped as text (String.raw: no template literal, no backtick inside), since a bundler's
// minifier may rewrite a function's own text to call helpers outside it.
const RUN_SCRIPT = String.raw`async function runScript(door, script, names, deadlineMs) {
  const MAX_LINES = 500;
  const MAX_CHARS = 24000;
  const replacer = (_, v) => {
    if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return { binary: true, bytes: v.byteLength };
    if (typeof v === "bigint") return String(v);
    return v;
  };
  const print = (v) => {
    if (typeof v === "string") return v;
    try {
      const s = JSON.stringify(v, replacer);
      if (s !== undefined) return s;
    } catch {
      // a cycle, or a throwing getter: its plain text below
    }
    try {
      return String(v);
    } catch {
      return "[unprintable]";
    }
  };
  const logs = [];
  let chars = 0;
  let dropped = 0;
  const push = (prefix, args) => {
    const line = prefix + Array.from(args, print).join(" ");
    if (logs.length >= MAX_LINES || chars + line.length > MAX_CHARS) return void dropped++;
    chars += line.length;
    logs.push(line);
  };
  for (const [method, prefix] of [["log", ""], ["info", ""], ["debug", ""], ["warn", "[warn] "], ["error", "[error] "]]) console[method] = (...args) => push(prefix, args);

  // A plain promise of the envelope: nothing of the RPC promise (its pipelining) reaches the
  // script.
  const call = async (name, args) => {
    const list = Array.from(args);
    while (list.length > 0 && list[list.length - 1] === undefined) list.pop();
    return await door.call(name, JSON.stringify(list, replacer));
  };
  const node = (path) => {
    const named = () => "api." + path;
    return new Proxy(function operation() {}, {
      get: (_, key) => {
        if (key === "toString" || key === Symbol.toPrimitive) return named;
        if (typeof key !== "string" || key === "then" || key === "toJSON") return undefined;
        return node(path + "." + key);
      },
      apply: (_, __, args) => call(path, args),
    });
  };
  const api = Object.freeze(Object.fromEntries(names.map((n) => [n, node(n)])));

  // The frames of the script's own module, its line numbers its own (its first line is the
  // function's head).
  const stackOf = (e) => {
    let stack = "";
    try {
      stack = typeof e?.stack === "string" ? e.stack : "";
    } catch {
      return undefined;
    }
    const frames = stack
      .split("\n")
      .filter((l) => /^\s+at /.test(l) && l.includes("script.js"))
      .map((l) => l.replace(/script\.js:(\d+)/g, (_, n) => "script.js:" + (Number(n) - 1)));
    return frames.length ? frames.join("\n") : undefined;
  };
  const messageOf = (e) => {
    try {
      return e instanceof Error ? e.name + ": " + e.message : "thrown: " + print(e);
    } catch {
      return "thrown: [unprintable]";
    }
  };

  const late = { late: true };
  let timer;
  const deadline = new Promise((resolve) => (timer = setTimeout(() => resolve(late), deadlineMs)));
  let answer;
  try {
    const value = await Promise.race([script(api), deadline]);
    answer = value === late ? { error: { message: "the script ran past its deadline (" + deadlineMs + " ms) and was stopped" } } : { value };
  } catch (e) {
    answer = { error: { message: messageOf(e), stack: stackOf(e) } };
  } finally {
    clearTimeout(timer);
  }
  const note = dropped ? ["[" + dropped + " more console lines dropped: at most " + MAX_LINES + " lines, " + MAX_CHARS + " characters]"] : [];
  const out = { ...answer, logs: [...logs, ...note] };
  try {
    return JSON.stringify(out, replacer);
  } catch (e) {
    return JSON.stringify({ value: "[the script's value is not JSON: " + messageOf(e) + "]", logs: out.logs }, replacer);
  }
}`;

/** The harness module: the entrypoint the door calls, `run(names, deadlineMs)`. */
export const HARNESS = `import { WorkerEntrypoint } from "cloudflare:workers";
import script from "./script.js";
const runScript = ${RUN_SCRIPT};
export default class Harness extends WorkerEntrypoint {
  run(names, deadlineMs) {
    return runScript(this.env.DOOR, script, names, deadlineMs);
  }
}
`;
