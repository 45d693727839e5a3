// Binary data both ways, through the built Workers over a real service binding: multipart
// uploads with file parts (Stripe's files.create), binary bodies (the Petstore's uploadImage,
// GitHub's uploadReleaseAsset) from every kind of bytes a caller holds, success bodies that are
// not text handed back as the very bytes (Stripe's quotes.pdf), and a binary body that holds the
// call's credential withheld. The recording upstream keeps the raw bytes it received.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { bytes, bytesOf, startUpstream, startWorkers } from "./harness.mjs";
import { CANARIES, findLeaks } from "./security/corpus.mjs";

const SECRET = CANARIES.secret.values[0];
const CALL_KEY = CANARIES.callKey.values[0];
// Every byte value, twice, and bytes that are no UTF-8: what a string would have mangled.
const ALL_BYTES = Buffer.from([...Array(256).keys(), ...Array(256).keys()].reverse());

let upstream, stripe, petstore, github;

before(async () => {
  upstream = await startUpstream();
  const loopback = { CAPA_LOOPBACK_ORIGIN: upstream.origin };
  [stripe, petstore, github] = await Promise.all([
    startWorkers({ provider: "stripe", bindings: { STRIPE_API_KEY: SECRET, ...loopback } }),
    startWorkers({ provider: "petstore", bindings: { PETSTORE_API_KEY: SECRET, ...loopback } }),
    startWorkers({ provider: "github", bindings: { GITHUB_TOKEN: SECRET, ...loopback } }),
  ]);
});
after(async () => {
  for (const cap of [stripe, petstore, github]) assert.deepEqual(findLeaks(null, cap.logs), []);
  await Promise.all([stripe, petstore, github].map((c) => c.dispose()));
  await upstream.close();
});
beforeEach(() => {
  upstream.requests.length = 0;
  upstream.reply = () => ({ status: 200, json: { id: "file_1", object: "file" } });
});

async function call(cap, dotted, ...args) {
  const envelope = await cap.call(dotted, ...args);
  assert.deepEqual(findLeaks(envelope), [], dotted);
  return envelope;
}

/** The multipart body the upstream received, parsed by the platform's own parser. */
async function formOf(req) {
  return new Request("http://upstream/", { method: "POST", headers: { "content-type": req.headers["content-type"] }, body: req.raw }).formData();
}

test("files.create sends multipart/form-data: the file part's bytes, name and type as given; nested fields in Stripe's brackets", async () => {
  // A File cannot cross RPC: `{ data, name, type }` names and types the file part.
  const file = { data: bytes(ALL_BYTES), name: "evidence.pdf", type: "application/pdf" };
  const r = await call(stripe, "files.create", {
    file,
    purpose: "dispute_evidence",
    file_link_data: { create: true, metadata: { case: "a&b=c", "k[y]": "é" } },
    expand: ["links"],
  });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  assert.equal(r.result.id, "file_1");
  const req = upstream.take();
  assert.equal(`${req.method} ${req.url}`, "POST /v1/files");
  assert.equal(req.headers.authorization, `Bearer ${SECRET}`);
  assert.match(req.headers["content-type"], /^multipart\/form-data; boundary=/);
  const form = await formOf(req);
  const part = form.get("file");
  assert.equal(part.name, "evidence.pdf");
  assert.equal(part.type, "application/pdf");
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), ALL_BYTES);
  assert.deepEqual(
    [...form.entries()].filter(([k]) => k !== "file"),
    [
      ["purpose", "dispute_evidence"],
      ["file_link_data[create]", "true"],
      ["file_link_data[metadata][case]", "a&b=c"],
      ["file_link_data[metadata][k[y]]", "é"],
      ["expand[0]", "links"],
    ],
  );
  assert.equal(r.receipt.path, "/v1/files");
});

test("a file part takes its field's name and application/octet-stream when the bytes carry neither", async () => {
  for (const as of ["Uint8Array", "ArrayBuffer", "DataView", "Blob"]) {
    await call(stripe, "files.create", { file: bytes("%PDF-1.7", { as }), purpose: "dispute_evidence" });
    const part = (await formOf(upstream.take())).get("file");
    assert.equal(part.name, "file", as);
    assert.equal(part.type, "application/octet-stream", as);
    assert.equal(await part.text(), "%PDF-1.7", as);
  }
  // A Blob's own type travels with it.
  await call(stripe, "files.create", { file: bytes("%PDF-1.7", { as: "Blob", type: "application/pdf" }), purpose: "dispute_evidence" });
  assert.equal((await formOf(upstream.take())).get("file").type, "application/pdf");
});

test("binary bodies send the bytes exactly, from every kind a caller holds", async () => {
  upstream.reply = () => ({ status: 200, json: { code: 200, message: "ok" } });
  for (const as of ["Uint8Array", "ArrayBuffer", "DataView", "Uint16Array", "Blob"]) {
    const r = await call(petstore, "pet.uploadImage", 7, { additionalMetadata: "front", body: bytes(ALL_BYTES, { as, type: "image/png" }) });
    assert.equal(r.ok, true, `${as}: ${JSON.stringify(r.error)}`);
    const req = upstream.take();
    assert.equal(`${req.method} ${req.url}`, "POST /api/v3/pet/7/uploadImage?additionalMetadata=front", as);
    // The operation declares application/octet-stream: that is what goes, whatever the Blob says.
    assert.equal(req.headers["content-type"], "application/octet-stream", as);
    assert.deepEqual(req.raw, ALL_BYTES, as);
  }
  // A string is sent as its UTF-8.
  await call(petstore, "pet.uploadImage", 7, { body: "héllo" });
  assert.deepEqual(upstream.take().raw, Buffer.from("héllo"));
});

test("GitHub's release asset upload sends the file's bytes to uploads.github.com's path", async () => {
  upstream.reply = () => ({ status: 201, json: { id: 1, name: "app.zip", state: "uploaded" } });
  const r = await call(github, "repos.uploadReleaseAsset", "o", "r", 9, { name: "app.zip", body: bytes(ALL_BYTES, { as: "Blob", type: "application/zip" }) });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  const req = upstream.take();
  assert.equal(`${req.method} ${req.url}`, "POST /repos/o/r/releases/9/assets?name=app.zip");
  assert.equal(req.headers["content-type"], "application/octet-stream");
  assert.equal(req.headers["content-length"], String(ALL_BYTES.length));
  assert.deepEqual(req.raw, ALL_BYTES);
});

test("binary data anywhere but a file field or a binary body is refused before any request", async () => {
  const cases = [
    [stripe, "customers.create", [{ name: bytes("x") }], "`name`"],
    [stripe, "customers.create", [{ metadata: { a: bytes("x") } }], "`metadata`"],
    [stripe, "files.create", [{ file: bytes("x"), purpose: "dispute_evidence", file_link_data: { create: true, metadata: { a: bytes("x") } } }], "`file_link_data`"],
    [stripe, "files.create", [{ file: { data: bytes("x"), filename: "a.pdf" }, purpose: "dispute_evidence" }], "takes `data`, `name` and `type`"],
    [stripe, "customers.retrieve", [bytes("cus_1")], "binary data"],
    [stripe, "customers.list", [{ email: bytes("x") }], "`email`"],
    [github, "markdown.renderRaw", [bytes("# hi")], "binary data"],
    [petstore, "pet.uploadImage", [7, { additionalMetadata: bytes("x"), body: bytes("x") }], "`additionalMetadata`"],
    [petstore, "pet.uploadImage", [7, { body: { not: "bytes" } }], "got object"],
  ];
  for (const [cap, dotted, args, says] of cases) {
    const r = await call(cap, dotted, ...args);
    assert.equal(r.ok, false, dotted);
    assert.equal(r.error.code, "invalid_argument", `${dotted}: ${JSON.stringify(r.error)}`);
    assert.ok(r.error.message.includes(says), `${dotted}: ${r.error.message}`);
  }
  assert.equal(upstream.requests.length, 0);
  // A per-call key given as bytes is no key.
  const r = await call(stripe, "customers.list", { limit: 1 }, { auth: { apiKey: bytes(CALL_KEY) } });
  assert.equal(r.error.code, "invalid_argument");
  assert.equal(upstream.requests.length, 0);
});

test("a success that is not text comes back as its bytes, a Uint8Array; text stays a string", async () => {
  upstream.reply = () => ({ status: 200, headers: { "content-type": "application/pdf" }, body: ALL_BYTES });
  const r = await call(stripe, "quotes.pdf.retrieve", "qt_1");
  assert.equal(r.ok, true, JSON.stringify(r.error));
  assert.equal(r.result.as, "Uint8Array");
  assert.deepEqual(bytesOf(r.result), ALL_BYTES);
  assert.equal(r.receipt.status, 200);
  assert.equal(upstream.take().url, "/v1/quotes/qt_1/pdf");

  const kinds = [
    ["text/csv", "a,b\n1,2", "string"],
    ["application/vnd.github.diff; charset=utf-8", "diff --git a b", "string"],
    ["application/xml", "<a/>", "string"],
    ["image/svg+xml", "<svg/>", "string"],
    ["application/octet-stream", "raw", "bytes"],
    ["application/zip", "PK", "bytes"],
  ];
  for (const [type, body, want] of kinds) {
    upstream.reply = () => ({ status: 200, headers: { "content-type": type }, body });
    const r = await call(stripe, "quotes.pdf.retrieve", "qt_1");
    assert.equal(r.ok, true, type);
    if (want === "string") assert.equal(r.result, body, type);
    else assert.equal(bytesOf(r.result).toString(), body, type);
  }
  // Errors are read as text whatever their type: a person reads them.
  upstream.reply = () => ({ status: 404, headers: { "content-type": "application/octet-stream" }, body: "no such quote" });
  const e = await call(stripe, "quotes.pdf.retrieve", "qt_1");
  assert.equal(e.error.code, "upstream_error");
  assert.equal(e.error.upstream, "no such quote");
});

test("a binary success body holding the call's credential is withheld, never half-masked", async () => {
  const forms = [SECRET, encodeURIComponent(SECRET), Buffer.from(`${SECRET}:`).toString("base64")];
  for (const [i, form] of forms.entries()) {
    upstream.reply = () => ({ status: 200, headers: { "content-type": "application/pdf" }, body: Buffer.concat([ALL_BYTES, Buffer.from(form), ALL_BYTES]) });
    const r = await call(stripe, "quotes.pdf.retrieve", "qt_1");
    assert.equal(r.ok, false, `form ${i}`);
    assert.equal(r.error.code, "upstream_body_withheld");
    assert.equal(r.error.status, 200);
    assert.deepEqual(r.error.upstream, { contentType: "application/pdf" });
    assert.equal(r.receipt.verdict, "fail");
  }
  // A per-call key the same way, and the Worker secret's absence from the call does not matter.
  upstream.reply = () => ({ status: 200, headers: { "content-type": "application/pdf" }, body: Buffer.from(`%PDF ${CALL_KEY}`) });
  const r = await call(stripe, "quotes.pdf.retrieve", "qt_1", null, { auth: { apiKey: CALL_KEY } });
  assert.equal(r.error.code, "upstream_body_withheld");
  assert.equal(upstream.requests.at(-1).headers.authorization, `Bearer ${CALL_KEY}`);
});

test("a redirect (307) re-sends the same bytes; a 303 drops them", async () => {
  let n = 0;
  upstream.reply = () => (n++ === 0 ? { status: 307, headers: { location: "/api/v3/pet/8/uploadImage" } } : { status: 200, json: { code: 200 } });
  const r = await call(petstore, "pet.uploadImage", 7, { body: bytes(ALL_BYTES, { as: "Blob" }) });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  const [first, second] = upstream.requests.splice(0);
  assert.deepEqual(first.raw, ALL_BYTES);
  assert.equal(`${second.method} ${second.url}`, "POST /api/v3/pet/8/uploadImage");
  assert.deepEqual(second.raw, ALL_BYTES);
  assert.equal(r.receipt.attempts, 2);
});
