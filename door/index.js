// The agent door: an MCP server (Streamable HTTP, POST /mcp) whose tools are the capabilities a
// grant reaches. Deployed as its own Worker (`wrangler deploy --env mcp`), holding service
// bindings to the capabilities it serves and calling them like any caller: it never imports the
// runtime, and never sees the deployment's credentials (docs/door.md).
//
// Each request, in order:
// 1. `Origin`, when sent, must be one of DOOR_ALLOWED_ORIGINS (MCP requires Streamable HTTP
//    servers to check it, against DNS rebinding): a browser page elsewhere gets 403. Clients
//    that are not browsers send none.
// 2. The bearer token opens a grant (door/grants.js), or the answer is 401 with a
//    `WWW-Authenticate` header and nothing else.
// 3. A fresh MCP server and a stateless transport answer the one JSON-RPC message (the SDK's
//    web-standard transport; JSON answers, no SSE stream, no session id). Protocol versions
//    2025-11-25 and 2025-06-18: an initialize asking for another is answered with 2025-11-25,
//    a request naming another in `MCP-Protocol-Version` is refused (400).
//
// /admin/grants (POST to issue, GET to list, DELETE /admin/grants/<id> to revoke) answers only
// with `Authorization: Bearer <DOOR_ADMIN_SECRET>`, and only when that secret is set.
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker-provider.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { callTool, scope, toolList } from "./tools.js";
import { grantsOf } from "./grants.js";
import { sameText } from "./crypto.js";
import { execute } from "./execute.js";

export { DoorGrants } from "./grants.js";
// The entrypoint an `execute` sandbox's stub reaches (door/execute.js), by `ctx.exports`.
export { DoorExecution } from "./execute.js";

export const PROTOCOL_VERSIONS = ["2025-11-25", "2025-06-18"];
const MAX_BODY = 1 << 20;
const INSTRUCTIONS =
  "Tools for the APIs this grant reaches. Use search to find an operation by what it does (it shows its name and signature), then call it by that name with its positional arguments. Credentials are held by the door: never pass auth.";
const CODE_INSTRUCTIONS = " To chain, loop or page over several calls, write a script for execute: `api.<capability>.<operation>(...args)` answers what call answers.";

const unauthorized = () => new Response(null, { status: 401, headers: { "WWW-Authenticate": 'Bearer realm="capa-door", error="invalid_token"' } });
const jsonError = (status, message) => Response.json({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }, { status });

/** The origins DOOR_ALLOWED_ORIGINS allows (comma-separated, exact: scheme, host and port). */
function allowedOrigins(env) {
  return String(env.DOOR_ALLOWED_ORIGINS ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean);
}

function bearer(request) {
  const m = /^Bearer ([^\s]+)$/.exec(request.headers.get("authorization") ?? "");
  return m ? m[1] : null;
}

async function mcp(request, env, ctx) {
  const token = bearer(request);
  const grant = token ? await grantsOf(env).authorize(token) : null;
  if (!grant) return unauthorized();
  if (request.method !== "POST") return new Response(null, { status: 405, headers: { Allow: "POST" } });
  const version = request.headers.get("mcp-protocol-version");
  if (version !== null && !PROTOCOL_VERSIONS.includes(version)) return jsonError(400, `Unsupported protocol version ${version} (this door speaks ${PROTOCOL_VERSIONS.join(", ")})`);
  const length = Number(request.headers.get("content-length") ?? 0);
  if (length > MAX_BODY) return jsonError(413, "request too large");
  let body;
  try {
    const text = await request.text();
    if (text.length > MAX_BODY) return jsonError(413, "request too large");
    body = JSON.parse(text);
  } catch {
    return Response.json({ jsonrpc: "2.0", error: { code: -32700, message: "Parse error" }, id: null }, { status: 400 });
  }
  for (const m of Array.isArray(body) ? body : [body]) {
    if (m?.method === "initialize" && m.params && !PROTOCOL_VERSIONS.includes(m.params.protocolVersion)) m.params.protocolVersion = PROTOCOL_VERSIONS[0];
  }
  const caps = scope(env, grant);
  // Code mode is offered when the door has its Worker Loader and can make loopback stubs.
  const code = !!env.LOADER && !!ctx?.exports?.DoorExecution;
  const server = new Server({ name: "capa-door", version: "1.0.0" }, { capabilities: { tools: {} }, instructions: INSTRUCTIONS + (code ? CODE_INSTRUCTIONS : ""), jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: toolList(caps, code) }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => {
    const input = req.params.arguments ?? {};
    if (code && req.params.name === "execute") return execute(env, ctx, grant, caps, input.code);
    return callTool(env, grant, caps, req.params.name, input, code);
  });
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await server.connect(transport);
  return transport.handleRequest(request, { parsedBody: body });
}

async function admin(request, env, rest) {
  const secret = env.DOOR_ADMIN_SECRET;
  const given = bearer(request);
  if (!secret || !given || !sameText(given, secret)) return new Response("not found\n", { status: 404 });
  const grants = grantsOf(env);
  if (request.method === "POST" && rest === "") {
    const out = await grants.issue(await request.json().catch(() => null));
    return Response.json(out, { status: out.error ? 400 : 200 });
  }
  if (request.method === "GET" && rest === "") return Response.json(await grants.list());
  if (request.method === "DELETE" && rest.startsWith("/")) return Response.json({ revoked: await grants.revoke(rest.slice(1)) });
  return new Response("not found\n", { status: 404 });
}

export default {
  async fetch(request, env, ctx) {
    const origin = request.headers.get("origin");
    if (origin !== null && !allowedOrigins(env).includes(origin)) return new Response("origin not allowed\n", { status: 403 });
    const { pathname } = new URL(request.url);
    if (pathname === "/mcp") return mcp(request, env, ctx);
    if (pathname === "/admin/grants" || pathname.startsWith("/admin/grants/")) return admin(request, env, pathname.slice("/admin/grants".length));
    return new Response("capa door: MCP at POST /mcp\n", { status: 404 });
  },
};
