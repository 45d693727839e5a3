// The benchmark's stand-in for api.stripe.com, a Worker reached through Miniflare's
// outboundService, so every measurement stays inside one workerd.
const customer = (i) => ({
  id: `cus_${String(i).padStart(14, "0")}`, object: "customer", address: null, balance: 0, created: 1690000000 + i, currency: "usd",
  default_source: null, delinquent: false, description: "A benchmark customer with a description of moderate length", discount: null,
  email: `customer${i}@example.com`, invoice_prefix: "ABCD1234", invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
  livemode: false, metadata: { order_id: `order_${i}`, segment: "benchmark" }, name: `Customer ${i}`, next_invoice_sequence: 1, phone: null,
  preferred_locales: [], shipping: null, tax_exempt: "none", test_clock: null,
});
const list = (n) => JSON.stringify({ object: "list", url: "/v1/customers", has_more: false, data: Array.from({ length: n }, (_, i) => customer(i)) });
const SMALL_LIST = list(3);
// About 200 KB.
const BIG_LIST = list(Math.round(200_000 / (list(1).length - 60)));
const INTENT = JSON.stringify({ id: "pi_3NtBenchmark000001", object: "payment_intent", amount: 2500, currency: "usd", status: "requires_payment_method", livemode: false, metadata: { order_id: "A1" } });
const HEADERS = { "content-type": "application/json", "request-id": "req_bench" };
// Stripe answers JSON with its length, as most APIs answer what they do not stream; a Worker's
// string body goes out without one unless it is set (and the capability then counts the body as
// it arrives, src/js/body.js).
const sized = (body) => ({ ...HEADERS, "content-length": String(new TextEncoder().encode(body).length) });
const SIZED = new Map([INTENT, SMALL_LIST, BIG_LIST].map((b) => [b, sized(b)]));

// 1,000 customers in pages of 100, walked by `starting_after` (bench/pages.mjs): each page's
// text made once.
const WALK = 1000;
const walkPages = new Map();
function walkPage(after) {
  const start = after ? Number(after.slice(4)) + 1 : 0;
  if (!walkPages.has(start)) {
    const data = Array.from({ length: Math.min(100, WALK - start) }, (_, i) => customer(start + i));
    const body = JSON.stringify({ object: "list", url: "/v1/customers", has_more: start + 100 < WALK, data });
    walkPages.set(start, [body, sized(body)]);
  }
  return walkPages.get(start);
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.searchParams.get("email") === "walk") {
      const [body, headers] = walkPage(url.searchParams.get("starting_after"));
      return new Response(body, { headers });
    }
    if (request.method === "POST") {
      await request.arrayBuffer();
      return new Response(INTENT, { headers: SIZED.get(INTENT) });
    }
    const big = url.searchParams.get("limit") === "100";
    const body = big ? BIG_LIST : SMALL_LIST;
    return new Response(body, { headers: SIZED.get(body) });
  },
};
