// Rights set by the deployment (src/rights.rs): the Stripe capability built as deployed, in
// workerd, with CAPA_ONLY / CAPA_EXCEPT / CAPA_READ_ONLY vars, called over a service binding
// against a recording upstream. Allowed calls go through; refused ones are operation_not_allowed
// naming the deployment, with no upstream request and no credential anywhere; classes (read,
// destructive, Stripe's money) work as patterns, each refusing by name the operations issue 31
// found slipping past it; a var entry naming nothing (a typo, a no-break space around a class)
// or a list past its bound refuses every call.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { CANARY, startUpstream, startWorkers, assertNoCanary } from "./harness.mjs";

let upstream, cap;

before(async () => {
  upstream = await startUpstream();
  const base = { STRIPE_API_KEY: CANARY.secret, CAPA_LOOPBACK_ORIGIN: upstream.origin };
  const narrowed = (vars) => ({ bindings: { ...base, ...vars } });
  cap = await startWorkers({
    provider: "stripe",
    bindings: base,
    variants: {
      NO_MONEY: narrowed({ CAPA_EXCEPT: "money, destructive" }),
      READ_ONLY: narrowed({ CAPA_READ_ONLY: "true" }),
      CUSTOMERS: narrowed({ CAPA_ONLY: "customers.*, paymentIntents.retrieve", CAPA_EXCEPT: "customers.del" }),
      TYPO: narrowed({ CAPA_EXCEPT: "mony" }),
      // Vars as TOML may give them: a boolean is read as its word; an array, not read as a
      // list, refuses every call rather than leave the Worker open.
      READ_ONLY_BOOL: narrowed({ CAPA_READ_ONLY: true }),
      EXCEPT_ARRAY: narrowed({ CAPA_EXCEPT: ["money"] }),
      // Each class alone (issue 31: operations that slipped past them).
      EXCEPT_MONEY: narrowed({ CAPA_EXCEPT: "money" }),
      EXCEPT_DESTRUCTIVE: narrowed({ CAPA_EXCEPT: "destructive" }),
      // Only ASCII spaces are trimmed: a no-break space makes a name that is no class.
      PADDED: narrowed({ CAPA_EXCEPT: "money\u00a0" }),
      // Past the bound of 256 entries: refused whole, whatever the entries name.
      TOO_MANY: narrowed({ CAPA_EXCEPT: Array(257).fill("money").join(",") }),
    },
  });
});
after(async () => {
  assertNoCanary(assert, cap.logs, "the Worker's console output");
  await cap.dispose();
  await upstream.close();
});
beforeEach(() => {
  upstream.requests.length = 0;
  upstream.reply = () => ({ status: 200, json: { id: "cus_123", object: "customer" } });
});

async function run(target, call, ...args) {
  const [out] = await cap.batch([{ target, call, args }], 1);
  assert.equal(out.thrown, undefined, JSON.stringify(out.thrown));
  assertNoCanary(assert, out.value, `${target} ${call}`);
  return out.value;
}

async function refused(target, call, ...args) {
  const before = upstream.requests.length;
  const r = await run(target, call, ...args);
  assert.equal(r.ok, false, `${target} ${call} went through`);
  assert.equal(r.error.code, "operation_not_allowed", JSON.stringify(r.error));
  assert.match(r.error.message, new RegExp(`^${call.replace(/\./g, "\\.")} is not allowed: the deployment of stripe does not offer it`));
  assert.deepEqual([r.receipt.call, r.receipt.attempts, r.receipt.status, r.receipt.verdict], [call, 0, null, "fail"]);
  assert.equal(upstream.requests.length, before, "no upstream request");
  return r;
}

async function allowed(target, call, ...args) {
  const r = await run(target, call, ...args);
  assert.equal(r.ok, true, `${target} ${call}: ${JSON.stringify(r.error)}`);
  return r;
}

test("no vars: every operation is offered", async () => {
  await allowed("CAP", "paymentIntents.create", { amount: 100, currency: "usd" });
  await allowed("CAP", "customers.del", "cus_1");
});

test("except money and destructive: reads and other writes pass, money and cancellations do not", async () => {
  await allowed("NO_MONEY", "customers.list", { limit: 1 });
  await allowed("NO_MONEY", "customers.create", { email: "a@example.com" });
  await refused("NO_MONEY", "paymentIntents.create", { amount: 100, currency: "usd" });
  await refused("NO_MONEY", "refunds.create", { charge: "ch_1" });
  await refused("NO_MONEY", "paymentIntents.cancel", "pi_1");
  await refused("NO_MONEY", "customers.del", "cus_1");
  assert.equal(upstream.requests.length, 2);
});

test("read-only: GETs only; even bad arguments are refused for the right before they are read", async () => {
  await allowed("READ_ONLY", "customers.retrieve", "cus_1");
  await refused("READ_ONLY", "customers.create", { email: "a@example.com" });
  await refused("READ_ONLY", "customers.update", "cus_1", { not: { a: "param" } }, { auth: { apiKey: "sk_test_CANARYcaller000000" } });
});

test("only a resource and one method, less one: the union, minus the exception", async () => {
  await allowed("CUSTOMERS", "customers.list");
  await allowed("CUSTOMERS", "customers.balanceTransactions.list", "cus_1");
  await allowed("CUSTOMERS", "paymentIntents.retrieve", "pi_1");
  await refused("CUSTOMERS", "customers.del", "cus_1");
  await refused("CUSTOMERS", "paymentIntents.list");
  await refused("CUSTOMERS", "charges.list");
});

test("vars in other shapes: a boolean CAPA_READ_ONLY holds; an array CAPA_EXCEPT refuses every call", async () => {
  await allowed("READ_ONLY_BOOL", "customers.list");
  await refused("READ_ONLY_BOOL", "customers.create", { email: "a@example.com" });
  for (const call of ["customers.list", "paymentIntents.create"]) {
    const r = await refused("EXCEPT_ARRAY", call);
    assert.match(r.error.message, /CAPA_EXCEPT names `\["money"\]`/);
  }
});

test("a var entry that names nothing refuses every call, naming the var and the entry", async () => {
  for (const call of ["customers.list", "paymentIntents.create"]) {
    const r = await refused("TYPO", call);
    assert.match(r.error.message, /CAPA_EXCEPT names `mony`, which is no class \(read, write, destructive, money\)/);
  }
});

// Issue 31's operations, by class: each refused where its class is excepted, and offered where
// only the other class is (so the refusal is its class's, not something else's).
const MONEY = [
  ["customers.subscriptions.create", "cus_1", { items: [{ price: "price_1" }] }],
  ["subscriptionItems.create", { subscription: "sub_1", price: "price_1" }],
  ["quotes.accept", "qt_1"],
  ["terminal.readers.processPaymentIntent", "tmr_1", { payment_intent: "pi_1" }],
  ["terminal.readers.refundPayment", "tmr_1", { payment_intent: "pi_1" }],
  ["subscriptions.update", "sub_1", { items: [{ price: "price_2" }] }],
  ["invoices.finalize", "in_1"],
  ["customers.update", "cus_1", { balance: 100000 }],
];
const DESTRUCTIVE = [
  ["identity.verificationSessions.redact", "vs_1"],
  ["financialConnections.accounts.disconnect", "fca_1"],
  ["issuing.authorizations.decline", "iauth_1"],
  ["paymentMethods.detach", "pm_1"],
  ["invoices.markUncollectible", "in_1"],
];

test("except money refuses what charges or commits a customer, named by the issue; destructive ones pass", async () => {
  for (const [call, ...args] of MONEY) await refused("EXCEPT_MONEY", call, ...args);
  for (const [call, ...args] of DESTRUCTIVE) await allowed("EXCEPT_MONEY", call, ...args);
  assert.equal(upstream.requests.length, DESTRUCTIVE.length);
});

test("except destructive refuses what ends or undoes, named by the issue; money ones that end nothing pass", async () => {
  for (const [call, ...args] of DESTRUCTIVE) await refused("EXCEPT_DESTRUCTIVE", call, ...args);
  for (const [call, ...args] of MONEY) await allowed("EXCEPT_DESTRUCTIVE", call, ...args);
  assert.equal(upstream.requests.length, MONEY.length);
});

test("a var entry padded with a no-break space names nothing: every call is refused, and the message shows it", async () => {
  for (const call of ["customers.list", "paymentIntents.create"]) {
    const r = await refused("PADDED", call);
    assert.match(r.error.message, /CAPA_EXCEPT names `money\\u\{a0\}`, which is no class/);
  }
});

test("a var past 256 entries refuses every call, naming the bound", async () => {
  const r = await refused("TOO_MANY", "customers.list");
  assert.match(r.error.message, /its CAPA_EXCEPT holds more than 256 entries \(a rights list holds at most 256\): every call is refused until the var is fixed/);
});
