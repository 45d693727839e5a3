// Type-checked by scripts/test.sh (`tsc --noEmit`): the generated declarations describe the
// surface a caller writes against, and reject what the runtime would refuse where types can.
import type { StripeCapability, Result, CallOptions } from "../../generated/stripe/index";
import type { PetstoreCapability } from "../../generated/petstore/index";
import type { WireCapability } from "../../generated/wire/index";

declare const stripe: StripeCapability;
declare const petstore: PetstoreCapability;
declare const wire: WireCapability;

export async function calls(key: string): Promise<Result<unknown, unknown>[]> {
  const options: CallOptions = { auth: { apiKey: key, headers: { "Stripe-Account": "acct_1" } } };
  const out = [
    await stripe.customers.retrieve("cus_1"),
    await stripe.customers.retrieve("cus_1", { expand: ["sources"] }),
    await stripe.customers.retrieve("cus_1", { auth: { apiKey: key } }),
    await stripe.customers.retrieve("cus_1", null, options),
    await stripe.customers.update("cus_1", { email: "a@b.c" }),
    await stripe.customers.list({ limit: 3, expand: ["data.default_source"], created: { gte: 1 } }),
    await stripe.customers.del("cus_1"),
    await stripe.customers.balanceTransactions.list("cus_1"),
    await stripe.paymentIntents.create({ amount: 2500, currency: "usd" }, options),
    await stripe.paymentIntents.confirm("pi_1", { payment_method: "pm_card_visa" }),
    await petstore.pet.retrieve(7),
    await petstore.pet.findByStatus({ status: "sold" }),
    await petstore.user.createWithList([{ username: "a" }]),
    await stripe.files.create({ file: new Uint8Array([37, 80, 68, 70]), purpose: "dispute_evidence" }),
    await stripe.files.create({ file: new Blob(["%PDF"], { type: "application/pdf" }), purpose: "dispute_evidence", file_link_data: { create: true } }),
    await stripe.files.create({ file: { data: new Uint8Array(4), name: "scan.pdf", type: "application/pdf" }, purpose: "dispute_evidence" }),
    await petstore.pet.uploadImage(7, { body: new ArrayBuffer(8) }),
    await petstore.pet.uploadImage(7, { additionalMetadata: "front", body: "text" }),
    // How robust a call is (docs/contract.md, "Retries and deadlines").
    await stripe.paymentIntents.create({ amount: 2500, currency: "usd" }, { idempotencyKey: "order-42", maxRetries: 3, timeoutMs: 10_000 }),
    await stripe.customers.retrieve("cus_1", { maxRetries: 0 }),
  ];
  // @ts-expect-error a file field takes bytes, not a number
  await stripe.files.create({ file: 42, purpose: "dispute_evidence" });
  // @ts-expect-error amount is required
  await stripe.paymentIntents.create({ currency: "usd" });
  // @ts-expect-error only allow-listed headers
  await stripe.customers.retrieve("cus_1", { auth: { headers: { "X-Other": "1" } } });
  // Credential parameters per call, by name (docs/auth.md): only where the provider has them.
  out.push(await wire.token.pair.retrieve({ auth: { apiKey: key, params: { token: key, key } } }));
  out.push(await wire.token.header.retrieve({ auth: { params: { token: key } } }));
  // @ts-expect-error no credential parameter of the provider's
  await wire.token.header.retrieve({ auth: { params: { tokn: key } } });
  // @ts-expect-error Stripe has no credential parameters
  await stripe.customers.retrieve("cus_1", { auth: { params: { token: key } } });
  // @ts-expect-error Petstore takes no idempotency key
  await petstore.pet.retrieve(7, { idempotencyKey: "k" });
  // @ts-expect-error the path argument comes first
  await stripe.customers.retrieve({ expand: ["sources"] });
  const r = out[0];
  if (r.ok) {
    r.result satisfies unknown;
  } else {
    r.error.code satisfies "missing_credential" | "header_not_allowed" | "invalid_argument" | "unknown_parameter" | "upstream_error" | "upstream_redirect" | "upstream_unreachable" | "upstream_invalid_body" | "upstream_body_withheld" | "auth_failed" | "operation_not_allowed" | "upstream_outcome_unknown" | "upstream_timeout" | "upstream_too_large" | "rate_limited" | "internal";
    if (r.error.code === "auth_failed") r.error.stage satisfies "token" | "login" | "upstream";
    // A right the deployment does not offer carries no status and no upstream answer.
    if (r.error.code === "operation_not_allowed") r.error.status satisfies undefined;
    // A wall names when to try again, when it knows; an upstream error too.
    if (r.error.code === "rate_limited") {
      r.error.stage satisfies "upstream" | "capability" | "grant";
      // @ts-expect-error no such stage
      r.error.stage === "door";
      r.error.retryAfterMs satisfies number | undefined;
    }
    if (r.error.code === "upstream_error") r.error.retryAfterMs satisfies number | undefined;
    // An answer past the deployment's size limit: the limit, and the status it came with.
    if (r.error.code === "upstream_too_large") {
      r.error.limit satisfies number;
      r.error.status satisfies number;
    }
    // A request that went out and whose outcome a fault lost: maybe a status, never an answer.
    if (r.error.code === "upstream_outcome_unknown") {
      r.error.status satisfies number | undefined;
      r.error.upstream satisfies undefined;
    }
  }
  r.receipt.refreshed satisfies boolean;
  r.receipt.callId satisfies string;
  r.receipt.tries[0]?.failure satisfies "unreachable" | "timeout" | undefined;
  r.receipt.idempotencyKey satisfies string | null;
  r.receipt.pages satisfies number | null;
  return out;
}

// Sessions (README, "Sessions"): the same resources, bound to one auth; their methods take no
// auth; `readOnly` keeps the read methods alone.
export async function sessions(key: string): Promise<Result<unknown, unknown>[]> {
  const tenant = stripe.withAuth({ apiKey: key, headers: { "Stripe-Account": "acct_1" } }, { except: ["money", "destructive"] });
  const reader = tenant.attenuate({ readOnly: true });
  const only = stripe.withAuth(null, { only: ["customers.*", "read"] });
  const out = [
    await tenant.customers.list({ limit: 1 }),
    await tenant.customers.create({ email: "a@b.c" }),
    await reader.customers.retrieve("cus_1"),
    await reader.attenuate({ only: ["customers.list"] }).customers.list(),
    await only.paymentIntents.retrieve("pi_1"),
    await stripe.withAuth({ apiKey: key }).customers.list(),
  ];
  // @ts-expect-error a session's auth is fixed: its methods take none
  await tenant.customers.list({ limit: 1 }, { auth: { apiKey: key } });
  // @ts-expect-error a read-only session has no write methods
  await reader.customers.create({ email: "a@b.c" });
  // @ts-expect-error nor does an attenuation of one
  await reader.attenuate({}).customers.del("cus_1");
  // @ts-expect-error rights are patterns, not numbers
  stripe.withAuth({ apiKey: key }, { only: [7] });
  // @ts-expect-error a header outside the allow-list
  stripe.withAuth({ headers: { "X-Other": "1" } });
  return out;
}

// Pages (docs/pages.md): an operation that pages takes `pages` and answers its items typed; one
// that does not refuses it; a session's methods page too.
export async function pages(key: string): Promise<void> {
  const r = await stripe.customers.list({ limit: 100 }, { pages: { maxItems: 250 } });
  if (r.ok) {
    r.result.data[0]?.id satisfies string | undefined;
    r.result.hasMore satisfies boolean;
    r.result.pages satisfies number;
    if (r.result.next) await stripe.customers.list(r.result.next, { pages: {} });
  } else {
    r.error.partial?.data satisfies unknown[] | undefined;
  }
  const all = await stripe.withAuth({ apiKey: key }).customers.list(undefined, { pages: { maxPages: 3 } });
  if (all.ok) all.result.data satisfies { id: string }[];
  // @ts-expect-error retrieving one customer does not page
  await stripe.customers.retrieve("cus_1", { pages: {} });
  // @ts-expect-error maxItems is a number
  await stripe.customers.list({}, { pages: { maxItems: "all" } });
}
