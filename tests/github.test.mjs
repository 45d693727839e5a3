// The GitHub capability: Octokit's names (`naming = "operationId"`), pinned User-Agent, API version
// and Accept, a token sent when the Worker has one (the description declares no security), a
// text/plain body, an operation on its own server (uploads.github.com), a DELETE with a body; the
// destructive class, by its names and the manifest's, through a binding's props.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startUpstream, startWorkers } from "./harness.mjs";
import { CANARIES, findLeaks } from "./security/corpus.mjs";

const TOKEN = CANARIES.secret.values[0];
let upstream, cap;

before(async () => {
  upstream = await startUpstream();
  cap = await startWorkers({
    provider: "github",
    bindings: { GITHUB_TOKEN: TOKEN, CAPA_LOOPBACK_ORIGIN: upstream.origin },
    // A caller whose binding may do anything but what ends or undoes (README, "Rights").
    props: { CAP_SAFE: { except: ["destructive"] } },
  });
});
after(async () => {
  assert.deepEqual(findLeaks(null, cap.logs), []);
  await cap.dispose();
  await upstream.close();
});
beforeEach(() => {
  upstream.requests.length = 0;
  upstream.reply = () => ({ status: 200, headers: { "x-github-request-id": "CAFE:1" }, json: { number: 1347, title: "Found a bug" } });
});

async function call(dotted, ...args) {
  const envelope = await cap.call(dotted, ...args);
  assert.deepEqual(findLeaks(envelope), [], dotted);
  return envelope;
}

test("issues.get(owner, repo, number): Octokit's name, GitHub's headers", async () => {
  const r = await call("issues.get", "octocat", "Hello-World", 1347);
  const req = upstream.take();
  assert.equal(`${req.method} ${req.url}`, "GET /repos/octocat/Hello-World/issues/1347");
  assert.equal(req.headers.authorization, `Bearer ${TOKEN}`);
  assert.equal(req.headers["user-agent"], "capa-rs/0.1");
  assert.equal(req.headers["x-github-api-version"], "2022-11-28");
  assert.equal(req.headers.accept, "application/vnd.github+json");
  assert.equal(r.result.title, "Found a bug");
  assert.equal(r.receipt.operation, "issues/get");
  assert.equal(r.receipt.requestId, "CAFE:1");
});

test("pulls.merge and repos.getContent read as Octokit's", async () => {
  upstream.reply = () => ({ status: 200, json: { merged: true } });
  await call("pulls.merge", "o", "r", 7, { merge_method: "squash", commit_title: "t" });
  let req = upstream.take();
  assert.equal(`${req.method} ${req.url}`, "PUT /repos/o/r/pulls/7/merge");
  assert.equal(req.body, '{"merge_method":"squash","commit_title":"t"}');
  await call("repos.getContent", "o", "r", "README.md", { ref: "main" });
  req = upstream.take();
  assert.equal(req.url, "/repos/o/r/contents/README.md?ref=main");
});

test("markdown.renderRaw sends its text/plain body as given", async () => {
  upstream.reply = () => ({ status: 200, headers: { "content-type": "text/html" }, body: "<p>Hello <strong>world</strong></p>" });
  const r = await call("markdown.renderRaw", "Hello **world**");
  const req = upstream.take();
  assert.equal(`${req.method} ${req.url}`, "POST /markdown/raw");
  assert.equal(req.headers["content-type"], "text/plain");
  assert.equal(req.body, "Hello **world**");
  assert.equal(r.result, "<p>Hello <strong>world</strong></p>");
});

test("an operation on its own server goes there (uploads.github.com, mapped to the loopback origin here)", async () => {
  const seen = [];
  const outboundService = async (request) => {
    seen.push(new URL(request.url).origin + new URL(request.url).pathname);
    return Response.json({ id: 1 });
  };
  const real = await startWorkers({ provider: "github", bindings: { GITHUB_TOKEN: TOKEN }, outboundService });
  try {
    await real.call("repos.uploadReleaseAsset", "o", "r", 9, { name: "a.txt", body: "bytes" });
    await real.call("issues.get", "o", "r", 1);
  } finally {
    await real.dispose();
  }
  assert.deepEqual(seen, ["https://uploads.github.com/repos/o/r/releases/9/assets", "https://api.github.com/repos/o/r/issues/1"]);
});

test("a DELETE with a body sends it", async () => {
  upstream.reply = () => ({ status: 204 });
  const r = await call("repos.removeCollaborator", "o", "r", "u");
  assert.equal(upstream.take().method, "DELETE");
  assert.equal(r.result, null);
  await call("issues.removeAssignees", "o", "r", 5, { assignees: ["hubot"] });
  const req = upstream.take();
  assert.equal(`${req.method} ${req.url}`, "DELETE /repos/o/r/issues/5/assignees");
  assert.equal(req.body, '{"assignees":["hubot"]}');
});

test("without a token, calls go out unauthenticated (the description asks for none)", async () => {
  const bare = await startWorkers({ provider: "github", bindings: { CAPA_LOOPBACK_ORIGIN: upstream.origin } });
  try {
    const r = await bare.call("meta.get");
    assert.equal(r.ok, true, JSON.stringify(r.error));
    const req = upstream.take();
    assert.equal(req.url, "/meta");
    assert.equal(req.headers.authorization, undefined);
    assert.equal(r.receipt.credential, "none");
  } finally {
    await bare.dispose();
  }
});

test("{path} spans segments (x-multi-segment): its slashes kept, each part encoded, dot parts refused", async () => {
  upstream.reply = () => ({ status: 200, json: { type: "file" } });
  await call("repos.getContent", "o", "r", "docs/a b/README.md");
  assert.equal(upstream.take().url, "/repos/o/r/contents/docs/a%20b/README.md");
  await call("repos.getBranch", "o", "r", "feature/login?x#y");
  assert.equal(upstream.take().url, "/repos/o/r/branches/feature/login%3Fx%23y");
  for (const bad of ["docs/../../../orgs/x", "./a", "a//b", "/a", "a/", ".."]) {
    const r = await call("repos.getContent", "o", "r", bad);
    assert.equal(r.error?.code, "invalid_argument", bad);
  }
  // An ordinary parameter keeps a slash inside its segment.
  await call("issues.get", "o", "r/x", 1);
  assert.equal(upstream.take().url, "/repos/o/r%2Fx/issues/1");
  assert.equal(upstream.requests.length, 0);
});

test("compareCommits: two parameters in one segment, each kept to its part", async () => {
  upstream.reply = () => ({ status: 200, json: { status: "ahead" } });
  await call("repos.compareCommits", "o", "r", "main", "feature/x");
  assert.equal(upstream.take().url, "/repos/o/r/compare/main...feature%2Fx");
  const r = await call("repos.compareCommits", "o", "r", "a...b", "c");
  assert.equal(r.error.code, "invalid_argument");
  assert.match(r.error.message, /path parameter `base` must not hold `...`/);
  assert.equal(upstream.requests.length, 0);
});

test("except destructive: GitHub's acts that end, give away or shut out are refused by name, merges are not", async () => {
  const ends = [
    ["repos.transfer", "o", "r", { new_owner: "someone" }],
    ["users.block", "u"],
    ["orgs.blockUser", "org", "u"],
    ["issues.lock", "o", "r", 1],
    ["pulls.dismissReview", "o", "r", 1, 2, { message: "m" }],
    ["actions.forceCancelWorkflowRun", "o", "r", 3],
    ["apps.suspendInstallation", 4],
    // By the manifest: its name hides that it removes a member.
    ["orgs.convertMemberToOutsideCollaborator", "org", "u"],
  ];
  const out = await cap.batch(ends.map(([call, ...args]) => ({ target: "CAP_SAFE", call, args })), 1);
  out.forEach(({ value, thrown }, i) => {
    assert.equal(thrown, undefined, JSON.stringify(thrown));
    assert.equal(value.error?.code, "operation_not_allowed", `${ends[i][0]}: ${JSON.stringify(value.error)}`);
    assert.match(value.error.message, /the caller's binding of github does not offer it/);
  });
  assert.equal(upstream.requests.length, 0);
  const [merge] = await cap.batch([{ target: "CAP_SAFE", call: "pulls.merge", args: ["o", "r", 7] }], 1);
  assert.equal(merge.value.ok, true, JSON.stringify(merge.value.error));
  assert.equal(upstream.take().url, "/repos/o/r/pulls/7/merge");
});
