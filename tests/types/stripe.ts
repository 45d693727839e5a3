// A caller Worker typed against the Stripe capability, as Workers developers write one
// (`Service<...>` from @cloudflare/workers-types). `scripts/test.sh` checks it with
// `tsc --noEmit --strict`; each `@ts-expect-error` is a mistake the types must catch.
import type { StripeCapability, Customer, ApiErrors } from "../../generated/stripe/index";

interface Env {
  STRIPE: Service<StripeCapability>;
}

export default {
  async fetch(_request: Request, env: Env): Promise<Response> {
    const created = await env.STRIPE.customers.create({ email: "jenny@example.com", metadata: { order: "6735" } });
    if (created.ok) {
      const id: string = created.result.id;
      const email: string | null | undefined = created.result.email;
      void [id, email];
      // @ts-expect-error a customer has no `amount`
      created.result.amount;
    } else if (created.error.code === "upstream_error") {
      const upstream = created.error.upstream;
      if (typeof upstream === "object") upstream.type satisfies ApiErrors["type"];
      created.error.status satisfies number;
    } else if (created.error.code === "auth_failed") {
      // Where fresh credentials were refused, the provider's word on why.
      const why = created.error.upstream;
      if (typeof why === "object") why.message satisfies string | undefined;
    }
    const list = await env.STRIPE.customers.list({ limit: 3, created: { gte: 1 } });
    if (list.ok) for (const c of list.result.data) c.id satisfies string;
    const retrieved = await env.STRIPE.customers.retrieve("cus_1", { expand: ["default_source"] });
    if (retrieved.ok && !("deleted" in retrieved.result && retrieved.result.deleted)) {
      const source = (retrieved.result as Customer).default_source;
      if (source && typeof source !== "string") source.id satisfies string;
    }
    const pdf = await env.STRIPE.quotes.pdf.retrieve("qt_1");
    if (pdf.ok) pdf.result satisfies Uint8Array;
    const file = await env.STRIPE.files.create({ file: new Uint8Array([37, 80, 68, 70]), purpose: "dispute_evidence" });
    if (file.ok) file.result.id satisfies string;
    // @ts-expect-error amount is required
    await env.STRIPE.paymentIntents.create({ currency: "usd" });
    // A session through the binding (awaited: a stub, disposed at the end of the scope).
    using tenant = await env.STRIPE.withAuth({ apiKey: "sk_test_tenant" }, { except: ["money"] });
    const listed = await tenant.customers.list({ limit: 1 });
    if (listed.ok) listed.result.data satisfies Customer[];
    // @ts-expect-error not a method of the capability
    await tenant.customers.levitate();
    return Response.json({ ok: created.ok });
  },
};
