// A local stand-in for api.stripe.com, for the demo only: answers a few endpoints with
// Stripe-shaped objects and logs what it received (the key masked), so you can see the
// capability attach the credential the caller never held.
import { createServer } from "node:http";

const port = Number(process.env.PORT ?? 12111);
let counter = 0;

const customer = (id) => ({ id, object: "customer", email: "jenny.rosen@example.com", name: "Jenny Rosen", default_source: null, livemode: false });
const error = (status, message, type = "invalid_request_error") => ({ status, body: { error: { type, message } } });

function route(method, path, query, form) {
  let m;
  if (method === "GET" && path === "/v1/customers") {
    const limit = Number(query.get("limit") ?? 10);
    return { status: 200, body: { object: "list", url: "/v1/customers", has_more: false, data: Array.from({ length: Math.min(limit, 3) }, (_, i) => customer(`cus_${i + 1}`)) } };
  }
  if ((m = path.match(/^\/v1\/customers\/([^/]+)$/)) && method === "GET") return { status: 200, body: customer(decodeURIComponent(m[1])) };
  if (method === "POST" && path === "/v1/payment_intents") {
    if (!form.get("amount") || !form.get("currency")) return error(400, "Missing required param: amount.");
    return { status: 200, body: { id: `pi_demo${++counter}`, object: "payment_intent", amount: Number(form.get("amount")), currency: form.get("currency"), status: "requires_payment_method", livemode: false } };
  }
  if ((m = path.match(/^\/v1\/payment_intents\/([^/]+)\/confirm$/)) && method === "POST") {
    return { status: 200, body: { id: decodeURIComponent(m[1]), object: "payment_intent", status: "succeeded" } };
  }
  return error(404, `Unrecognized request URL (${method}: ${path}).`);
}

createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const url = new URL(req.url, "http://upstream");
    const auth = req.headers.authorization ?? "";
    const masked = auth.replace(/(Bearer sk_\w{5})\w+/, "$1…");
    console.log(`upstream <- ${req.method} ${req.url}  authorization: ${masked || "(none)"}  stripe-version: ${req.headers["stripe-version"] ?? "-"}`);
    const out = auth.startsWith("Bearer sk_")
      ? route(req.method, url.pathname, url.searchParams, new URLSearchParams(Buffer.concat(chunks).toString()))
      : error(401, "You did not provide an API key.");
    res.writeHead(out.status, { "content-type": "application/json", "request-id": `req_demo${++counter}` });
    res.end(JSON.stringify(out.body));
  });
}).listen(port, "127.0.0.1", () => console.log(`upstream: fake api.stripe.com on http://127.0.0.1:${port}`));
