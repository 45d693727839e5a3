// The door's tools, over one request's grant: `search`, `call`, `execute` when the door has a
// Worker Loader (its work is door/execute.js's), and one tool per operation when the grant
// reaches few enough of them. Names are qualified by capability everywhere
// (`stripe.customers.list`); per-operation tools use `_` (`stripe_customers_list`), as some
// clients refuse dots in tool names.
//
// `call` reaches the capability the way any caller does: through its service binding, in a
// session made for this one call, `withAuth(credential, rights)`, whose rights are the grant's.
// The capability judges the call (an operation outside the rights is its
// `operation_not_allowed`); the door refuses earlier only what it must: a name no capability of
// the grant has, arguments that are no list, an agent's own `auth`, a spent budget.
import { CATALOG, operations } from "./catalog.js";
import { reach } from "./rights.js";
import { buildIndex, search } from "./search.js";
import { unseal } from "./crypto.js";
import { grantsOf } from "./grants.js";

/** The most characters of a tool result (about 6,000 tokens, Cloudflare's code-mode cut). */
export const MAX_RESULT_CHARS = 24_000;
/** Per-operation tools are offered when a grant reaches at most this many operations. */
export const MAX_OPERATION_TOOLS = 40;
/** The most hits `search` returns. */
export const MAX_SEARCH_LIMIT = 25;

// One index per capability and isolate, built at first use (door/search.js).
const INDEXES = new Map();
function indexOf(doc) {
  let index = INDEXES.get(doc.capability);
  if (!index) INDEXES.set(doc.capability, (index = buildIndex(doc)));
  return index;
}

/** What a request's grant reaches: per capability its document, rights, reach and binding. */
export function scope(env, grant) {
  const caps = [];
  for (const [capability, entry] of Object.entries(grant.capabilities)) {
    const doc = CATALOG[capability];
    if (!doc || !env[doc.binding]) continue;
    caps.push({ capability, doc, rights: entry.rights, sealed: entry.sealed ?? null, reach: reach(doc, entry.rights) });
  }
  return caps;
}

/** Text cut at MAX_RESULT_CHARS, with a note saying so. */
export function cut(text) {
  if (text.length <= MAX_RESULT_CHARS) return text;
  return `${text.slice(0, MAX_RESULT_CHARS)}\n…[cut: this result is ${text.length} characters, the door returns at most ${MAX_RESULT_CHARS} (about 6,000 tokens); ask for less: a smaller limit, fewer expand, a narrower list]`;
}

/** JSON of an envelope, binary results shown by their size rather than their bytes. */
export function show(value) {
  return JSON.stringify(value, (_, v) => (v instanceof ArrayBuffer || ArrayBuffer.isView(v) ? { binary: true, bytes: v.byteLength } : v), 2);
}

export const refusal = (code, message, extra = {}) => ({ ok: false, error: { code, message, ...extra }, receipt: null });

/** Whether an argument list carries an `auth` of the agent's own (in any object argument). */
function carriesAuth(args) {
  return args.some((a) => a !== null && typeof a === "object" && !Array.isArray(a) && Object.hasOwn(a, "auth"));
}

/** The tool list for `caps`; `execute` when the door has its Worker Loader (`code`). */
export function toolList(caps, code = false) {
  const names = caps.map((c) => c.capability).join(", ");
  const tools = [
    {
      name: "search",
      title: "Search operations",
      description: `Finds API operations this grant may call (capabilities: ${names}) by what they do, best first. Each hit: its qualified name, HTTP method and path, classes, a one-line summary and a compact TypeScript signature. Then use \`call\` with that name.`,
      inputSchema: { type: "object", properties: { query: { type: "string", description: "What you want to do, in words: \"refund a charge\", \"list pull requests\"" }, limit: { type: "integer", minimum: 1, maximum: MAX_SEARCH_LIMIT, description: "Hits to return (default 8)" } }, required: ["query"] },
      annotations: { readOnlyHint: true },
    },
    {
      name: "call",
      title: "Call an operation",
      description: `Calls one operation by its qualified name (from \`search\`), with \`args\` the positional argument list its signature shows: path parameters in order, then the params object, as in ["cus_123", { "expand": ["sources"] }]. Answers { ok, result | error, receipt }. Credentials are the grant's: never pass auth. Results past ${MAX_RESULT_CHARS} characters are cut, with a note.`,
      inputSchema: { type: "object", properties: { name: { type: "string", description: "Qualified name: stripe.customers.list" }, args: { type: "array", description: "Positional arguments: path parameters, then params", items: {} } }, required: ["name"] },
    },
  ];
  if (code) tools.push(executeTool(caps));
  const reached = caps.reduce((n, c) => n + c.reach.size, 0);
  if (reached <= MAX_OPERATION_TOOLS) {
    for (const c of caps) {
      for (const op of c.doc.operations) {
        if (!c.reach.has(op.name)) continue;
        tools.push({
          name: `${c.capability}_${op.name.replace(/\./g, "_")}`,
          description: `${op.summary} (${op.method} ${op.path}; classes: ${op.classes.join(", ")}) ${op.signature}`.slice(0, 1024),
          inputSchema: inputSchema(op),
          ...(op.classes.includes("read") ? { annotations: { readOnlyHint: true } } : { annotations: { readOnlyHint: false, destructiveHint: op.classes.includes("destructive") } }),
        });
      }
    }
  }
  return tools;
}

/** The `execute` tool: code mode (door/execute.js). */
function executeTool(caps) {
  const names = caps.map((c) => c.capability);
  return {
    name: "execute",
    title: "Run a script against the APIs",
    description: `Runs JavaScript: the body of an async function whose only reach is \`api\`, this grant's capabilities (${names.join(", ")}) by name, each operation as \`search\` shows it: \`const r = await api.${names[0] ?? "stripe"}.customers.list({ limit: 3 })\` answers { ok, result | error, receipt } as \`call\` does. Loop, page and chain calls; \`return\` what you want back. No network, no credentials (never pass auth). Answers { ok, value | error, logs, calls, receipts }, cut past ${MAX_RESULT_CHARS} characters.`,
    inputSchema: { type: "object", properties: { code: { type: "string", description: "The body of an async function: statements, await, return" } }, required: ["code"] },
  };
}

/** A per-operation tool's input: its path parameters, and its params object. */
function inputSchema(op) {
  const properties = {};
  for (const p of op.path_params) properties[p] = { type: ["string", "integer"] };
  const required = [...op.path_params];
  if (op.params.length > 0) {
    const params = { type: "object", properties: {}, required: [] };
    for (const [key, type, req] of op.params) {
      params.properties[key] = type ? { type } : {};
      if (req) params.required.push(key);
    }
    if (params.required.length === 0) delete params.required;
    else required.push("params");
    properties.params = params;
  }
  return { type: "object", properties, required };
}

/** Answers a `tools/call` for `caps` under `grant`: the MCP result. */
export async function callTool(env, grant, caps, name, input, code = false) {
  const text = (t, isError = false) => ({ content: [{ type: "text", text: cut(t) }], ...(isError ? { isError: true } : {}) });
  if (name === "search") {
    const query = input?.query;
    if (typeof query !== "string" || query.trim() === "") return text("search takes { query: string, limit?: number }", true);
    const limit = Math.min(Math.max(Number.isInteger(input.limit) ? input.limit : 8, 1), MAX_SEARCH_LIMIT);
    const hits = search(caps.map((c) => ({ ...c, index: indexOf(c.doc) })), query, limit);
    if (hits.length === 0) return text(`No operation this grant reaches matches "${query}".`);
    const lines = hits.map(({ capability, op }) => `${capability}.${op.name}  ${op.method} ${op.path}  [${op.classes.join(", ")}]\n  ${op.summary}\n  ${op.signature}`);
    const first = hits[0];
    const script = code ? `\nOr in execute({ code }), as a method of api with the same arguments: const r = await api.${first.capability}.${first.op.name}(…); if (r.ok) return r.result;` : "";
    return text(`${lines.join("\n\n")}\n\nCall one with call({ name, args }): args is the positional list of its signature (path parameters, then params).${script}`);
  }
  let qualified = name;
  let args = input?.args ?? [];
  if (name !== "call") {
    // A per-operation tool: its name, and its input as the argument list.
    const c = caps.find((c) => name.startsWith(`${c.capability}_`));
    const op = c && [...c.reach].map((n) => operations(c.doc).get(n)).find((op) => `${c.capability}_${op.name.replace(/\./g, "_")}` === name);
    if (!op || caps.reduce((n, c) => n + c.reach.size, 0) > MAX_OPERATION_TOOLS) return text(`No tool named ${name}`, true);
    qualified = `${c.capability}.${op.name}`;
    args = [...op.path_params.map((p) => input?.[p]), ...(input?.params !== undefined ? [input.params] : [])];
    if (input && Object.keys(input).some((k) => k !== "params" && !op.path_params.includes(k))) {
      return text(show(refusal("invalid_argument", `${name} takes ${op.path_params.join(", ") || "no path parameters"}${op.params.length ? " and params" : ""}`)), true);
    }
  } else qualified = input?.name;
  const envelope = await callOperation(env, grant, caps, qualified, args);
  return text(show(envelope), !envelope.ok);
}

/** One call through the grant: the capability's envelope, or the door's refusal. */
export async function callOperation(env, grant, caps, qualified, args) {
  if (typeof qualified !== "string") return refusal("invalid_argument", "call takes { name: string, args?: unknown[] }");
  const dot = qualified.indexOf(".");
  const c = caps.find((c) => c.capability === qualified.slice(0, dot));
  if (!c) return refusal("invalid_argument", `no capability named by ${JSON.stringify(qualified.slice(0, 200))} in this grant (${caps.map((c) => c.capability).join(", ")}); names are qualified: stripe.customers.list`);
  const name = qualified.slice(dot + 1);
  const op = operations(c.doc).get(name);
  if (!op) return refusal("invalid_argument", `${c.capability} has no operation ${JSON.stringify(name.slice(0, 200))}; search finds them`);
  if (!Array.isArray(args)) return refusal("invalid_argument", "args is the positional argument list: [path parameters…, params]");
  if (carriesAuth(args)) return refusal("invalid_argument", "auth is the grant's: an agent's call never carries auth (it is refused, not forwarded)");
  const spent = await grantsOf(env).spend(grant.id, !op.classes.includes("read"));
  if (!spent.ok) return refusal("rate_limited", `this grant's budget is spent (${spent.which})`, { stage: "grant", retryAfterMs: spent.retryAfterMs });
  // The tenant's credential is clear only while the session is made; the session holds it.
  let auth = c.sealed ? await unseal(env.DOOR_SEAL_KEY, grant.id, c.capability, c.sealed) : {};
  let target = env[c.doc.binding].withAuth(auth, c.rights);
  auth = null;
  const path = name.split(".");
  for (const key of path.slice(0, -1)) target = target[key];
  return target[path[path.length - 1]](...args);
}
