// Every echo form in every place a caller receives upstream text: the guarantee of the README's
// Security section, form by form. An upstream echoes a credential of the call (the Worker
// secret, a per-call key, a secret header) or a context value (Stripe-Account) in each form of
// corpus.mjs's `echoForms` — raw, JSON-escaped, percent-encoded to every byte, base64 of an
// encoded form, base64 of base64, a JSON string nested in a JSON string... — in each place: a
// JSON result (also written with every letter a `\u00XX` escape), a text result, an upstream
// error object and an HTML error page, an invalid JSON body, the media type an invalid or a
// withheld body's message quotes, a binary body, a request id, a redirect away. Everything the
// caller gets is searched by the independent detector (it decodes two levels deep, and knows the
// values' distinctive pieces). The run prints leaks per form and per place; none is the pass.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startUpstream, startWorkers } from "../harness.mjs";
import { CANARIES, echoForms, findLeaks, unicodeEscapedJson, windowsOf } from "./corpus.mjs";

const SECRET = CANARIES.secret.values[1];
const KEYS = [CANARIES.callKey.values[1], CANARIES.callKey.values[3], "sk_test_CANARYcall%41%2F+plus&amp=eq"];
const ACCOUNT = CANARIES.context?.values?.[1] ?? "acct_CONTEXT\"\\%&=+ 3";
const headerSafe = (s) => s.replace(/[^\x20-\x7e]/g, "");

// Where the upstream puts the echoed text `form`, as its answer.
const PLACES = {
  jsonResult: (form) => ({ status: 200, json: { echo: form, [form]: 1 } }),
  unicodeEscapedResult: (_, value) => ({ status: 200, headers: { "content-type": "application/json" }, body: unicodeEscapedJson(value) }),
  textResult: (form) => ({ status: 200, headers: { "content-type": "text/plain" }, body: `you sent: ${form}` }),
  errorObject: (form) => ({ status: 402, json: { error: { type: "card_error", message: `bad key ${form}`, param: form } } }),
  errorPage: (form) => ({ status: 502, headers: { "content-type": "text/html" }, body: `<pre>${form}</pre>` }),
  invalidJson: (form) => ({ status: 200, headers: { "content-type": "application/json" }, body: `{"echo":"${form}"` }),
  mediaTypeOfInvalid: (form) => ({ status: 200, headers: { "content-type": `application/vnd.${headerSafe(form)}+json` }, body: "not json" }),
  mediaTypeOfBinary: (form, value) => ({ status: 200, headers: { "content-type": `application/x-${headerSafe(form)}` }, body: Buffer.from(`%PDF ${value}`, "latin1") }),
  binary: (form) => ({ status: 200, headers: { "content-type": "application/octet-stream" }, body: Buffer.concat([Buffer.from([0, 255, 7]), Buffer.from(form, "latin1"), Buffer.from([1, 2])]) }),
  requestId: (form) => ({ status: 200, headers: { "request-id": headerSafe(form) }, json: { ok: 1 } }),
  redirectAway: (form) => ({ status: 302, headers: { location: `https://evil.example/x?k=${headerSafe(form)}` } }),
};

let upstream;
before(async () => {
  upstream = await startUpstream();
});
after(() => upstream.close());

test("every echo form of every credential and context value, in every place, leaks nothing", async () => {
  const cap = await startWorkers({ provider: "stripe", bindings: { STRIPE_API_KEY: SECRET, CAPA_LOOPBACK_ORIGIN: upstream.origin } });
  const windows = windowsOf([SECRET, ...KEYS]);
  const byForm = {};
  const byPlace = {};
  let calls = 0;
  try {
    // Each case: which value the upstream echoes, and how the call carries it.
    const cases = [
      { what: "secret", value: SECRET, options: undefined },
      ...KEYS.map((key) => ({ what: "callKey", value: key, options: { auth: { apiKey: key } } })),
      { what: "context", value: ACCOUNT, options: { auth: { headers: { "Stripe-Account": ACCOUNT } } } },
    ];
    for (const { what, value, options } of cases) {
      for (const [place, answer] of Object.entries(PLACES)) {
        const forms = echoForms(value);
        // The upstream answers the n-th request with the n-th form.
        let n = 0;
        upstream.reply = () => answer(forms[n++ % forms.length][1], value);
        upstream.requests.length = 0;
        const outcomes = await cap.batch(
          forms.map(() => ({ call: "customers.retrieve", args: options ? ["cus_1", options] : ["cus_1"] })),
          1,
        );
        calls += outcomes.length;
        outcomes.forEach((outcome, i) => {
          assert.ok(!outcome.thrown, JSON.stringify(outcome.thrown));
          const envelope = outcome.value;
          // A context value may stand in a result and in the upstream's own answer: only the
          // receipt and the capability's own words are searched for it (findLeaks' rule).
          const leaks = findLeaks(envelope, [], what === "context" ? undefined : windows);
          const form = forms[i][0];
          byForm[form] ??= 0;
          byPlace[place] ??= 0;
          if (leaks.length && process.env.FORMS_DEBUG) console.log(place, what, forms[i][0], JSON.stringify(leaks[0]).slice(0, 400), JSON.stringify(envelope.error ?? envelope.result).slice(0, 300));
          if (leaks.length) {
            byForm[form]++;
            byPlace[place]++;
          }
        });
      }
    }
    const leaked = Object.values(byForm).reduce((a, b) => a + b, 0);
    console.log(`forms: ${calls} calls, ${leaked} leaking envelopes\n  by form: ${JSON.stringify(byForm)}\n  by place: ${JSON.stringify(byPlace)}`);
    assert.equal(leaked, 0, `leaks by form ${JSON.stringify(byForm)}; by place ${JSON.stringify(byPlace)}`);
    assert.deepEqual(findLeaks(null, cap.logs, windows), []);
  } finally {
    await cap.dispose();
  }
});
