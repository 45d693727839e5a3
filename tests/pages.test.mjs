// Many pages in one call (src/pages.rs, docs/pages.md): the built Workers in workerd, called
// over a service binding, against an upstream on 127.0.0.1 that pages as each provider does —
// Stripe's last-item cursor, Twitch's cursor in the body, GitHub's `Link` header. Each test
// asserts the requests the upstream received, the result, and the receipt.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startUpstream, startWorkers } from "./harness.mjs";
import { findLeaks } from "./security/corpus.mjs";

const SECRET = "sk_test_CANARYpages0000000000000000";
const GH = "ghp_CANARYpages00000000000000000000000";
const TW = "twCANARYpages0000000000000000";
let upstream, stripe, github, twitch;

// 40 customers, 35 issues, 23 followers: enough for three pages of each and a rest.
const customers = Array.from({ length: 40 }, (_, i) => ({ id: `cus_${String(i + 1).padStart(3, "0")}`, object: "customer" }));
const issues = Array.from({ length: 35 }, (_, i) => ({ number: i + 1, title: `issue ${i + 1}` }));
const events = Array.from({ length: 23 }, (_, i) => ({ id: String(i + 1), type: "PushEvent" }));
const followers = Array.from({ length: 23 }, (_, i) => ({ user_id: String(i + 1), user_login: `u${i + 1}` }));

/** What each provider's list answers, as the provider pages; `fault(n, url)` may replace the n-th answer (the first is 1). */
let fault = () => undefined;
function serve(req) {
  const n = upstream.requests.length;
  const replaced = fault(n, req.url);
  if (replaced) return replaced;
  const url = new URL(req.url, upstream.origin);
  const q = url.searchParams;
  if (url.pathname === "/v1/customers") {
    const limit = Number(q.get("limit") ?? 10);
    const after = q.get("starting_after");
    const start = after ? customers.findIndex((c) => c.id === after) + 1 : 0;
    const data = customers.slice(start, start + limit);
    return { status: 200, json: { object: "list", url: "/v1/customers", has_more: start + limit < customers.length, data } };
  }
  if (url.pathname === "/repos/o/r/issues") {
    const per = Number(q.get("per_page") ?? 30);
    const page = Number(q.get("page") ?? 1);
    const data = issues.slice((page - 1) * per, page * per);
    const headers = {};
    if (page * per < issues.length) headers.link = `<${upstream.origin}/repos/o/r/issues?per_page=${per}&page=${page + 1}>; rel="next", <${upstream.origin}/repos/o/r/issues?per_page=${per}&page=99>; rel="last"`;
    return { status: 200, json: data, headers };
  }
  if (url.pathname === "/users/u/events") {
    // Page numbers, and no Link: the walk stops at the short page.
    const per = Number(q.get("per_page") ?? 30);
    const page = Number(q.get("page") ?? 1);
    return { status: 200, json: events.slice((page - 1) * per, page * per) };
  }
  if (url.pathname === "/helix/channels/followers") {
    const first = Number(q.get("first") ?? 20);
    const start = Number(q.get("after") ?? 0);
    const data = followers.slice(start, start + first);
    const end = start + data.length;
    return { status: 200, json: { data, total: followers.length, pagination: end < followers.length ? { cursor: String(end) } : {} } };
  }
  return { status: 404, json: { message: "no such page" } };
}

before(async () => {
  upstream = await startUpstream();
  upstream.reply = serve;
  const base = { CAPA_LOOPBACK_ORIGIN: upstream.origin, CAPA_LOOPBACK_WAIT_SCALE: "0.01" };
  stripe = await startWorkers({ provider: "stripe", bindings: { ...base, STRIPE_API_KEY: SECRET } });
  github = await startWorkers({ provider: "github", bindings: { ...base, GITHUB_TOKEN: GH } });
  twitch = await startWorkers({ provider: "twitch", bindings: { ...base, TWITCH_API_KEY: TW, TWITCH_CLIENT_ID: "client-pages" } });
});
after(async () => {
  await Promise.all([stripe?.dispose(), github?.dispose(), twitch?.dispose()]);
  await upstream.close();
});

function fresh(f = () => undefined) {
  upstream.requests.length = 0;
  fault = f;
}
const urls = () => upstream.requests.map((r) => r.url);
const noLeak = (r) => assert.deepEqual(findLeaks(r), [], "nothing of a credential in the envelope");

test("Stripe's last-item cursor: three pages into one result and one receipt, then next continues exactly", async () => {
  fresh();
  const r = await stripe.call("customers.list", { limit: 10 }, { pages: { maxItems: 25 } });
  assert.equal(r.ok, true, JSON.stringify(r).slice(0, 400));
  assert.deepEqual(urls(), ["/v1/customers?limit=10", "/v1/customers?limit=10&starting_after=cus_010", "/v1/customers?limit=5&starting_after=cus_020"]);
  assert.deepEqual(r.result.data.map((c) => c.id), customers.slice(0, 25).map((c) => c.id));
  assert.equal(r.result.hasMore, true);
  assert.equal(r.result.pages, 3);
  assert.deepEqual(r.result.next, { limit: 5, starting_after: "cus_025" });
  assert.equal(r.receipt.pages, 3);
  assert.equal(r.receipt.attempts, 3);
  assert.deepEqual(r.receipt.tries.map((t) => t.status), [200, 200, 200]);
  for (const req of upstream.requests) assert.equal(req.headers.authorization, `Bearer ${SECRET}`, "every page carries the credential");
  noLeak(r);
  // Fed back, next gives the following items: none lost, none repeated, to the end.
  fresh();
  const rest = await stripe.call("customers.list", { ...r.result.next, limit: 10 }, { pages: {} });
  assert.equal(rest.ok, true);
  assert.deepEqual(rest.result.data.map((c) => c.id), customers.slice(25).map((c) => c.id));
  assert.equal(rest.result.hasMore, false);
  assert.equal(rest.result.next, null);
});

test("maxPages ends the walk with hasMore and next; a plain list call carries pages: null", async () => {
  fresh();
  const r = await stripe.call("customers.list", { limit: 10 }, { pages: { maxPages: 2 } });
  assert.equal(r.result.pages, 2);
  assert.equal(r.result.data.length, 20);
  assert.deepEqual(r.result.next, { limit: 10, starting_after: "cus_020" });
  fresh();
  const plain = await stripe.call("customers.list", { limit: 3 });
  assert.equal(plain.ok, true);
  assert.equal(plain.receipt.pages, null);
  assert.equal(plain.result.data.length, 3, "a plain call answers one page as it always did");
});

test("the walk sets the page size it wants when the caller did not", async () => {
  fresh();
  const r = await stripe.call("customers.list", { pages: { maxItems: 30 } });
  assert.deepEqual(urls(), ["/v1/customers?limit=30"]);
  assert.equal(r.result.data.length, 30);
  assert.deepEqual(r.result.next, { limit: 30, starting_after: "cus_030" });
});

test("Twitch's cursor in the body: pages follow pagination.cursor into after, the last asks for what is left", async () => {
  fresh();
  const r = await twitch.call("channels.followers", { broadcaster_id: "1", first: 10 }, { pages: { maxItems: 25 } });
  assert.equal(r.ok, true, JSON.stringify(r).slice(0, 400));
  assert.deepEqual(urls(), [
    "/helix/channels/followers?broadcaster_id=1&first=10",
    "/helix/channels/followers?broadcaster_id=1&first=10&after=10",
    "/helix/channels/followers?broadcaster_id=1&first=5&after=20",
  ]);
  assert.equal(r.result.data.length, 23, "the last page held only 3");
  assert.equal(r.result.total, 23, "Twitch's total is kept beside data");
  assert.equal(r.result.hasMore, false);
  assert.equal(r.result.next, null);
  assert.equal(r.receipt.pages, 3);
});

test("GitHub's Link header: pages followed, a cut page renumbered so next begins at the first item not taken", async () => {
  fresh();
  const r = await github.call("issues.listForRepo", "o", "r", { per_page: 10 }, { pages: { maxItems: 25 } });
  assert.equal(r.ok, true, JSON.stringify(r).slice(0, 400));
  assert.deepEqual(urls(), ["/repos/o/r/issues?per_page=10", "/repos/o/r/issues?per_page=10&page=2", "/repos/o/r/issues?per_page=10&page=3"]);
  assert.deepEqual(r.result.data.map((i) => i.number), issues.slice(0, 25).map((i) => i.number));
  assert.equal(r.result.hasMore, true);
  assert.deepEqual(r.result.next, { per_page: 5, page: 6 }, "items 26.. are page 6 of 5");
  fresh();
  const rest = await github.call("issues.listForRepo", "o", "r", r.result.next, { pages: {} });
  assert.deepEqual(rest.result.data.map((i) => i.number), issues.slice(25).map((i) => i.number), "none lost, none repeated");
  assert.equal(rest.result.next, null);
});

test("page numbers (GitHub's operations that declare no Link): pages until a short one; a cut page renumbered", async () => {
  fresh();
  const r = await github.call("activity.listEventsForAuthenticatedUser", "u", { per_page: 10 }, { pages: {} });
  assert.equal(r.ok, true, JSON.stringify(r).slice(0, 400));
  assert.deepEqual(urls(), ["/users/u/events?per_page=10", "/users/u/events?per_page=10&page=2", "/users/u/events?per_page=10&page=3"]);
  assert.deepEqual(r.result.data.map((e) => e.id), events.map((e) => e.id));
  assert.equal(r.result.hasMore, false, "a page of 3 where 10 were asked is the last");
  assert.equal(r.result.next, null);
  assert.equal(r.receipt.pages, 3);
  assert.equal(r.receipt.tries.length, 3);
  fresh();
  const cut = await github.call("activity.listEventsForAuthenticatedUser", "u", { per_page: 10 }, { pages: { maxItems: 15 } });
  assert.deepEqual(cut.result.next, { per_page: 5, page: 4 }, "items 16.. are page 4 of 5");
  fresh();
  const rest = await github.call("activity.listEventsForAuthenticatedUser", "u", cut.result.next, { pages: {} });
  assert.deepEqual([...cut.result.data, ...rest.result.data].map((e) => e.id), events.map((e) => e.id), "none lost, none repeated");
});

test("a hostile Link to another origin, another path or an undeclared parameter ends the walk: no request there", async () => {
  for (const [link, why] of [
    ["<http://evil.example/repos/o/r/issues?page=2>; rel=\"next\"", /another origin/],
    [`<${"ORIGIN"}/repos/o/other/issues?page=2>; rel="next"`, /another path/],
    [`<${"ORIGIN"}/repos/o/r/issues?page=2&redirect_to=x>; rel="next"`, /does not declare/],
  ]) {
    fresh((n) => (n === 1 ? { status: 200, json: issues.slice(0, 10), headers: { link: link.replace("ORIGIN", upstream.origin) } } : undefined));
    const r = await github.call("issues.listForRepo", "o", "r", { per_page: 10 }, { pages: {} });
    assert.equal(r.ok, false);
    assert.equal(r.error.code, "invalid_argument");
    assert.match(r.error.message, why);
    assert.equal(upstream.requests.length, 1, "nothing sent after the first page");
    assert.equal(r.error.partial.data.length, 10, "the first page's items are kept");
    noLeak(r);
  }
});

test("a failing third page answers the error with partial: the items so far and next at the failed page", async () => {
  fresh((n) => (n === 3 ? { status: 400, json: { error: { message: `bad ${SECRET}`, type: "invalid_request_error" } } } : undefined));
  const r = await stripe.call("customers.list", { limit: 10 }, { pages: { maxItems: 100 } });
  assert.equal(r.ok, false);
  assert.equal(r.error.code, "upstream_error");
  assert.equal(r.error.status, 400);
  assert.equal(r.error.partial.data.length, 20);
  assert.deepEqual(r.error.partial.next, { limit: 10, starting_after: "cus_020" });
  assert.equal(r.receipt.pages, 2);
  noLeak(r);
});

test("the subrequest cap: a walk whose every page needs a retry stops before 50 requests, and next goes on", async () => {
  const seen = new Set();
  fresh((n, url) => {
    if (seen.has(url)) return undefined;
    seen.add(url);
    return { status: 503, json: { error: { message: "busy" } } };
  });
  const r = await stripe.call("customers.list", { limit: 1 }, { pages: { maxPages: 40 } });
  assert.equal(r.ok, true, JSON.stringify(r).slice(0, 300));
  assert.ok(r.receipt.tries.length <= 50, `${r.receipt.tries.length} requests`);
  assert.equal(upstream.requests.length, r.receipt.tries.length, "the receipt lists every request");
  assert.ok(r.result.pages < 40, "the cap ended the walk before maxPages did");
  assert.equal(r.result.hasMore, true);
  const taken = r.result.data.length;
  assert.deepEqual(r.result.next, { limit: 1, starting_after: customers[taken - 1].id });
  // Every page began only while its worst case (12 requests: retries and redirects) still fit.
  assert.ok(r.receipt.tries.length + 12 > 50, "the walk went on while a page still fit");
  fresh();
  const rest = await stripe.call("customers.list", r.result.next, { pages: { maxPages: 40 } });
  assert.deepEqual([...r.result.data, ...rest.result.data].map((c) => c.id), customers.map((c) => c.id), "none lost, none repeated");
});

test("an operation that does not page refuses pages; bad pages options are invalid_argument", async () => {
  fresh();
  for (const [args, re] of [
    [["customers.retrieve", "cus_1", { pages: {} }], /does not page/],
    [["customers.list", {}, { pages: { maxItems: 0 } }], /maxItems/],
    [["customers.list", {}, { pages: { maxPages: 41 } }], /maxPages/],
    [["customers.list", {}, { pages: { every: true } }], /unknown member/],
    [["customers.list", {}, { pages: 3 }], /must be an object/],
  ]) {
    const r = await stripe.call(...args);
    assert.equal(r.error?.code, "invalid_argument", JSON.stringify(r));
    assert.match(r.error.message, re);
  }
  assert.equal(upstream.requests.length, 0);
});

test("a hostile upstream echoing the key in items and cursors: no page leaks it", async () => {
  fresh((n) =>
    n <= 3
      ? { status: 200, json: { object: "list", has_more: true, data: [{ id: `cus_${SECRET}`, note: Buffer.from(SECRET).toString("base64") }, { id: `cus_x${n}`, email: encodeURIComponent(SECRET) }] } }
      : undefined,
  );
  const r = await stripe.call("customers.list", { limit: 2 }, { pages: { maxPages: 3 } });
  assert.equal(r.ok, true);
  assert.equal(r.result.data.length, 6);
  noLeak(r);
});

test("a cursor holding the key, raw or in base64, never reaches next (found by the randomized run)", async () => {
  for (const cursor of [TW, Buffer.from(TW).toString("base64"), encodeURIComponent(`x ${TW}`)]) {
    fresh(() => ({ status: 200, json: { data: [{ user_id: "1" }], pagination: { cursor } } }));
    const r = await twitch.call("channels.followers", { broadcaster_id: "1" }, { pages: { maxPages: 1 } });
    assert.equal(r.ok, true, JSON.stringify(r).slice(0, 300));
    assert.equal(r.result.hasMore, true);
    assert.ok(r.result.next, "a next to continue with");
    noLeak(r);
    // And when the page after it fails, the partial's next is redacted too.
    fresh((n) => (n === 1 ? { status: 200, json: { data: [{ user_id: "1" }], pagination: { cursor } } } : { status: 500, json: { message: "down" } }));
    const failed = await twitch.call("channels.followers", { broadcaster_id: "1" }, { pages: {}, maxRetries: 0 });
    assert.equal(failed.ok, false);
    assert.ok(failed.error.partial.next);
    noLeak(failed);
  }
});
