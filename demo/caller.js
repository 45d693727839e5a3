// A caller Worker using a capability over its service binding (RPC): Stripe's by default, any
// provider's under `npm start -- <provider>` (its binding named by the CAPA_BINDING var). The
// routes below exist only to drive the demo with curl; a real caller just calls
// env.STRIPE.<resource>.<method>.
const HELP = `capa-rs demo caller. Try:
  curl -s http://127.0.0.1:8787/customers/cus_123
  curl -s -X POST http://127.0.0.1:8787/payment_intents -d '{"amount":2500,"currency":"usd"}'
  curl -s -X POST http://127.0.0.1:8787/call/customers.list -d '[{"limit":3,"expand":["data.default_source"]}]'
  curl -s -X POST http://127.0.0.1:8787/session/paymentIntents.create -d '{"rights":{"except":["money"]},"args":[{"amount":2500,"currency":"usd"}]}'
`;

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, first, second] = url.pathname.split("/");
    const binding = env.CAPA_BINDING ?? "STRIPE";
    const cap = env[binding];
    let result;
    if (binding === "STRIPE" && first === "customers" && second && request.method === "GET") {
      result = await cap.customers.retrieve(decodeURIComponent(second), { expand: ["default_source"] });
    } else if (binding === "STRIPE" && first === "payment_intents" && request.method === "POST") {
      result = await cap.paymentIntents.create(await request.json());
    } else if ((first === "call" || first === "session") && second && request.method === "POST") {
      // Any method: POST /call/<resource.method> with the JSON array of arguments; or through a
      // session, POST /session/<resource.method> with { auth?, rights?, args }: withAuth(auth,
      // rights), pipelined into the call (README, "Sessions").
      const path = second.split(".");
      const body = await request.json();
      let target = first === "session" ? cap.withAuth(body.auth ?? {}, body.rights) : cap;
      const args = first === "session" ? (body.args ?? []) : body;
      for (const key of path.slice(0, -1)) target = target[key];
      result = await target[path[path.length - 1]](...(Array.isArray(args) ? args : [args]));
    } else if (binding !== "STRIPE") {
      const help = `capa-rs demo caller, bound to ${binding}. Call any method (npm run methods -- <provider>):\n  curl -s -X POST http://${url.host}/call/<resource.method> -d '[<path params...>, {<params>}]'\n`;
      return new Response(help, { headers: { "content-type": "text/plain" } });
    } else {
      return new Response(HELP, { headers: { "content-type": "text/plain" } });
    }
    return new Response(JSON.stringify(result, null, 2) + "\n", { headers: { "content-type": "application/json" } });
  },
};
