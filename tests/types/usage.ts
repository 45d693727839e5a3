// Type-checked by scripts/test.sh (`tsc --noEmit`): the generated declarations describe the
// surface a caller writes against, and reject what the runtime would refuse where types can.
import type { StripeCapability, Result, CallOptions } from "../../generated/stripe/index";
import type { PetstoreCapability } from "../../generated/petstore/index";

declare const stripe: StripeCapability;
declare const petstore: PetstoreCapability;

export async function calls(key: string): Promise<Result[]> {
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
  ];
  // @ts-expect-error amount is required
  await stripe.paymentIntents.create({ currency: "usd" });
  // @ts-expect-error only allow-listed headers
  await stripe.customers.retrieve("cus_1", { auth: { headers: { "X-Other": "1" } } });
  // @ts-expect-error the path argument comes first
  await stripe.customers.retrieve({ expand: ["sources"] });
  const r = out[0];
  if (r.ok) {
    r.result satisfies unknown;
  } else {
    r.error.code satisfies "missing_credential" | "header_not_allowed" | "invalid_argument" | "unknown_parameter" | "upstream_error" | "upstream_redirect" | "upstream_unreachable" | "upstream_invalid_body" | "internal";
  }
  return out;
}
