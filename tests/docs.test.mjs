// The docs cannot rot unnoticed (issue 24). In README.md, ARCHITECTURE.md (when present),
// docs/*.md and bench/README.md:
//   - every repository path named in code (`src/auth.rs`) or as a link target exists, and every
//     link's `#anchor` is a heading of its target;
//   - every ```ts snippet type-checks, as tests/types/*.ts do, against the generated declarations;
//   - the README's curl lines under "Two commands" answer as their comments say, against the
//     stack `npm start` runs, in workerd: the demo caller and the built Stripe capability wired
//     by their wrangler configs, and stripe-mock upstream.
// Codes, receipt fields and option keys in docs/contract.md are checked on the Rust side, where
// they are listed (tests/docs.rs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT } from "./harness.mjs";

/** The docs this suite reads, relative to the repository's root. */
function docFiles() {
  const docs = readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`).sort();
  return ["README.md", ...(existsSync(path.join(ROOT, "ARCHITECTURE.md")) ? ["ARCHITECTURE.md"] : []), ...docs, "bench/README.md"];
}

/**
 * A markdown file read into what the checks need: its lines, its fenced blocks ({ lang, start
 * (1-based line of the first content line), text }), the inline code spans and link targets of
 * the rest (each with its line), and its headings' anchors.
 */
function readDoc(file) {
  const text = readFileSync(path.join(ROOT, file), "utf8");
  const lines = text.split("\n");
  const blocks = [];
  const prose = []; // [line number, text] outside fenced blocks
  let open = null;
  lines.forEach((line, i) => {
    const fence = /^\s*(```+|~~~+)\s*([\w+-]*)/.exec(line);
    if (open) {
      if (fence && fence[1][0] === open.fence[0] && fence[1].length >= open.fence.length && !fence[2]) {
        blocks.push({ lang: open.lang, start: open.start, text: open.lines.join("\n") + "\n" });
        open = null;
      } else open.lines.push(line);
      return;
    }
    if (fence) open = { fence: fence[1], lang: fence[2], start: i + 2, lines: [] };
    else prose.push([i + 1, line]);
  });
  // Inline code spans may run across a line break within a paragraph: walk the prose as one text.
  const spans = [];
  const links = [];
  let inSpan = null;
  for (const [n, line] of prose) {
    if (inSpan && line.trim() === "") inSpan = null; // a span does not cross a paragraph
    let rest = line;
    let outside = "";
    while (rest.length) {
      const tick = /`+/.exec(rest);
      if (!tick) {
        if (inSpan) inSpan.text += rest;
        else outside += rest;
        break;
      }
      if (inSpan) {
        if (tick[0].length === inSpan.ticks) {
          inSpan.text += rest.slice(0, tick.index);
          spans.push({ line: inSpan.line, text: inSpan.text.trim() });
          inSpan = null;
        } else inSpan.text += rest.slice(0, tick.index + tick[0].length);
      } else {
        outside += rest.slice(0, tick.index) + " ";
        inSpan = { ticks: tick[0].length, line: n, text: "" };
      }
      rest = rest.slice(tick.index + tick[0].length);
    }
    if (inSpan) inSpan.text += " ";
    for (const m of outside.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ line: n, target: m[1] });
    for (const m of outside.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/g)) links.push({ line: n, target: m[1] });
  }
  const anchors = new Set();
  const seen = new Map();
  for (const [, line] of prose) {
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const slug = githubSlug(h[1]);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count ? `${slug}-${count}` : slug);
  }
  return { file, text, lines, blocks, spans, links, anchors };
}

/** GitHub's heading anchor: the rendered text, lower-cased, punctuation dropped, spaces as `-`. */
function githubSlug(heading) {
  const rendered = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // links and images: their text
    .replace(/<[^>]+>/g, "") // inline HTML
    .replace(/[`*~]|(?<!\w)_|_(?!\w)/g, ""); // emphasis and code marks
  return rendered.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "").replace(/ /g, "-");
}

// ---------------------------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------------------------

/** The repository's files (tracked, or new and not ignored) and every directory holding them. */
function repositoryEntries() {
  let files;
  try {
    files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20 })
      .split("\0")
      .filter(Boolean)
      .filter((f) => existsSync(path.join(ROOT, f))); // deleted in the work tree: gone
  } catch {
    throw new Error("tests/docs.test.mjs reads the repository's files with `git ls-files`: run it in a git checkout");
  }
  const dirs = new Set();
  for (const f of files) for (let d = path.posix.dirname(f); d !== "."; d = path.posix.dirname(d)) dirs.add(d);
  return { files: new Set(files), dirs };
}

// Code spans that read like a repository path and are not one, each with why.
const NOT_PATHS = new Map([
  ["docs/a b/README.md", "docs/security.md: a path value a multi-segment parameter sends, not a file"],
]);

// Files a doc may link to before they land, each with why. A missing one is reported as a
// diagnostic, not a failure; once it exists it is checked as any other (its anchors included).
const PENDING = new Map();

// Names the docs use for a provider that is an example, not one of the repository's: the README's
// walkthrough adds `acme` (`generated/acme/`), as a placeholder `<name>` would. A path naming one
// is checked with that segment standing for any name.
const EXAMPLE_PROVIDERS = ["acme"];

/** A doc's path (maybe with `<placeholder>` segments, `*`/`**` globs, example provider names)
 * as a pattern over repository paths. */
function pathPattern(candidate) {
  let re = "";
  const body = candidate.replace(/\/$/, "");
  for (let i = 0; i < body.length; ) {
    const rest = body.slice(i);
    let m;
    if ((m = /^<[^>/]+>/.exec(rest))) re += "[^/]+";
    else if ((m = /^\*\*\//.exec(rest))) re += "(?:[^/]+/)*";
    else if ((m = /^\*\*/.exec(rest))) re += ".*";
    else if ((m = /^\*/.exec(rest))) re += "[^/]*";
    else if ((m = /^\{([^{}]*)\}/.exec(rest))) re += `(?:${m[1].split(",").map(escapeRe).join("|")})`;
    else if ((i === 0 || body[i - 1] === "/") && (m = new RegExp(`^(?:${EXAMPLE_PROVIDERS.join("|")})(?=/|$)`).exec(rest))) re += "[^/]+";
    else m = [rest[0]], (re += escapeRe(rest[0]));
    i += m[0].length;
  }
  return new RegExp(`^${re}$`);
}
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Whether `candidate` (relative to the root) names a file or directory of the repository. */
function exists(candidate, { files, dirs }) {
  const plain = candidate.replace(/\/$/, "");
  if (files.has(plain) && !candidate.endsWith("/")) return true;
  if (dirs.has(plain)) return true;
  if (!/[<*{]/.test(candidate) && !EXAMPLE_PROVIDERS.some((p) => candidate.split("/").includes(p))) return false;
  const re = pathPattern(candidate);
  return (!candidate.endsWith("/") && [...files].some((f) => re.test(f))) || [...dirs].some((d) => re.test(d));
}

/**
 * The repository paths a doc names in code: each whitespace-separated word of an inline code
 * span that starts with one of the repository's top-level entries (`src/`, `tests/`,
 * `wrangler.toml`, ...) and is made of path characters only. A word with other characters is an
 * example of something else (docs/security.md's `docs/a b/README.md`, a path *value* being
 * percent-encoded), as is a word following `=`, `:` or a URL.
 */
function pathsInCode(doc, top) {
  const out = [];
  const pieces = [...doc.spans, ...doc.blocks.flatMap((b) => b.text.split("\n").map((text, i) => ({ line: b.start + i, text })))];
  for (const span of pieces) {
    if (NOT_PATHS.has(span.text)) continue;
    for (const raw of span.text.split(/\s+/)) {
      const word = raw.replace(/^["'(]+/, "").replace(/["'),.;:]+$/, "");
      if (!/^[\w.\-/<>*{},]+$/.test(word)) continue;
      const first = word.split("/")[0];
      // A top-level directory followed by a `/` (`bench` alone is a word), or a top-level file.
      const named = top.get(first) === "dir" ? word.includes("/") : top.get(first) === "file" && word === first;
      if (named) out.push({ line: span.line, path: word });
    }
  }
  return out;
}

test("docs: every repository path they name exists, every link resolves to a file and a heading", (t) => {
  const entries = repositoryEntries();
  const top = new Map();
  for (const f of entries.files) {
    const [first, ...rest] = f.split("/");
    top.set(first, rest.length ? "dir" : "file");
  }
  const docs = new Map(docFiles().map((f) => [f, readDoc(f)]));
  const broken = [];
  let checked = 0;
  let links = 0;
  for (const doc of docs.values()) {
    for (const { line, path: p } of pathsInCode(doc, top)) {
      checked++;
      if (!exists(p, entries)) broken.push(`${doc.file}:${line}: \`${p}\` names no file or directory of the repository`);
    }
    for (const { line, target } of doc.links) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      checked++;
      links++;
      const [file, anchor] = target.split("#");
      const resolved = file ? path.posix.normalize(path.posix.join(path.posix.dirname(doc.file), decodeURIComponent(file))) : doc.file;
      if (file && (resolved.startsWith("..") || !exists(resolved, entries))) {
        if (PENDING.has(resolved)) {
          t.diagnostic(`${doc.file}:${line}: link \`${target}\`: ${resolved} is pending (${PENDING.get(resolved)})`);
          continue;
        }
        broken.push(`${doc.file}:${line}: link \`${target}\`: ${resolved} is no file or directory of the repository`);
        continue;
      }
      if (anchor === undefined) continue;
      if (!resolved.endsWith(".md")) {
        broken.push(`${doc.file}:${line}: link \`${target}\`: an anchor into ${resolved}, which is no markdown file`);
        continue;
      }
      const target_ = docs.get(resolved) ?? readDoc(resolved);
      if (!target_.anchors.has(anchor)) {
        broken.push(`${doc.file}:${line}: link \`${target}\`: ${resolved} has no heading #${anchor} (it has: ${[...target_.anchors].map((a) => `#${a}`).join(", ")})`);
      }
    }
  }
  t.diagnostic(`${checked - links} paths and ${links} links in ${[...docs.keys()].join(", ")}`);
  assert.ok(checked > 50, `only ${checked} paths and links found: is the extraction broken?`);
  assert.deepEqual(broken, [], `${broken.length} broken path(s) or link(s) in the docs:\n${broken.join("\n")}`);
});

// ---------------------------------------------------------------------------------------------
// TypeScript snippets
// ---------------------------------------------------------------------------------------------

// Names a snippet may use without declaring them, as the fragment of a Worker it is: each is
// declared, with this type, in the snippet's own module (so `env` is the snippet's `Env`) when
// the snippet uses it and does not declare it at its top level. Anything else a snippet uses must
// be declared in it.
const SNIPPET_PRELUDE = {
  env: "Env", // the Worker's env, typed by the snippet's own `interface Env`
  email: "string",
  tenant: "{ stripeKey: string }",
};

// The flags scripts/test.sh checks tests/types/*.ts with.
const TSC_FLAGS = ["--noEmit", "--strict", "--target", "es2022", "--lib", "esnext", "--module", "esnext", "--moduleResolution", "bundler", "--types", "@cloudflare/workers-types"];

/**
 * Every ```ts block of the docs as a module in `dir`. An import of `…/generated/<provider>`
 * resolves to the repository's generated declarations, or, for a provider the repository does
 * not build, to a stub (`capa-stub/<provider>`) whose every imported name is `CapaStub`, a
 * capability whose members are all `any` (workers-types' `Service<>` cannot map an `any`, so such
 * a snippet's `Service<T>` passes stubs through as they are and maps the others as workers-types
 * does). Free names of SNIPPET_PRELUDE are declared. Answers the files with where each came from.
 */
function writeSnippets(dir) {
  const snippets = [];
  const stubs = new Map(); // provider -> the names snippets import from it
  for (const file of docFiles()) {
    for (const block of readDoc(file).blocks) {
      if (!/^(ts|typescript|tsx)$/.test(block.lang)) continue;
      const name = `${file.replace(/[^\w]+/g, "_")}_L${block.start}.ts`;
      let stubbed = false;
      const imports = /(\bimport\s+(?:type\s+)?([^"';]*?)\s*from\s*|\bimport\s*\(\s*)(["'])([^"']*)\3/g;
      const text = block.text.replace(imports, (all, lead, clause, quote, spec) => {
        const m = /(?:^|\/)generated\/([\w-]+)(?:\/index(?:\.d\.ts|\.js)?)?$/.exec(spec);
        if (!m) return all;
        const declarations = path.join(ROOT, "generated", m[1], "index.d.ts");
        if (existsSync(declarations)) return `${lead}${quote}${path.relative(dir, declarations).replace(/\.d\.ts$/, "")}${quote}`;
        stubbed = true;
        const names = stubs.get(m[1]) ?? new Set();
        for (const part of /\{([^}]*)\}/.exec(clause ?? "")?.[1].split(",") ?? []) {
          const imported = part.trim().replace(/^type\s+/, "").split(/\s+as\s+/)[0];
          if (imported) names.add(imported);
        }
        stubs.set(m[1], names);
        return `${lead}${quote}capa-stub/${m[1]}${quote}`;
      });
      const free = Object.entries(SNIPPET_PRELUDE).filter(
        ([n]) => new RegExp(`(?<![.\\w$])${n}\\b`).test(text) && !new RegExp(`^(?:export\\s+)?(?:declare\\s+)?(?:const|let|var|function|class)\\s+${n}\\b`, "m").test(text),
      );
      // One line, so the snippet's own lines keep their numbers (less one).
      const prelude = [...(stubbed ? ["type Service<T> = CapaService<T>;"] : []), ...free.map(([n, type]) => `declare const ${n}: ${type};`)];
      writeFileSync(path.join(dir, name), `${prelude.join(" ")}\n${text}`);
      snippets.push({ name, file, start: block.start, offset: 1 });
    }
  }
  const stubText = [
    "// Providers the repository does not build, as the docs' snippets import them.",
    "interface CapaStub extends Rpc.WorkerEntrypointBranded { readonly [member: string]: any }",
    "type CapaService<T> = T extends CapaStub ? T : T extends Rpc.WorkerEntrypointBranded ? Service<T> : never;",
    ...[...stubs].map(([provider, names]) => `declare module "capa-stub/${provider}" { ${[...names].map((n) => `export type ${n} = CapaStub;`).join(" ")} }`),
  ];
  writeFileSync(path.join(dir, "capa-stub.d.ts"), stubText.join("\n") + "\n");
  return snippets;
}

/** tsc over the snippets in `dir`, once: its diagnostics, each mapped to its doc and line. */
function checkSnippets(dir, snippets) {
  const tsc = path.join(ROOT, "node_modules", ".bin", "tsc");
  // The snippets live outside the repository: its node_modules is where the types are.
  const typeRoots = ["--typeRoots", path.join(ROOT, "node_modules")];
  const run = spawnSync(tsc, [...TSC_FLAGS, ...typeRoots, "--pretty", "false", ...snippets.map((s) => s.name), "capa-stub.d.ts"], { cwd: dir, encoding: "utf8" });
  if (run.error) throw run.error;
  const out = `${run.stdout}${run.stderr}`;
  const errors = [];
  for (const line of out.split("\n").filter(Boolean)) {
    const m = /^(.+?)\((\d+),(\d+)\): (.*)$/.exec(line);
    const snippet = m && snippets.find((s) => s.name === path.basename(m[1]));
    errors.push(snippet ? `${snippet.file}:${snippet.start + Number(m[2]) - 1 - snippet.offset}:${m[3]}: ${m[4]}` : line);
  }
  if (run.status !== 0 && errors.length === 0) errors.push(`tsc exited ${run.status} without a diagnostic`);
  return errors;
}

test("docs: every TypeScript snippet type-checks against the generated declarations", (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "capa-docs-ts-"));
  try {
    const snippets = writeSnippets(dir);
    assert.ok(snippets.length >= 2, `only ${snippets.length} TypeScript snippet(s) found: is the extraction broken?`);
    t.diagnostic(`${snippets.length} snippets: ${snippets.map((s) => `${s.file}:${s.start}`).join(", ")}`);
    const errors = checkSnippets(dir, snippets);
    assert.deepEqual(errors, [], `the docs' TypeScript snippets do not type-check:\n${errors.join("\n")}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
// The README's curl lines
// ---------------------------------------------------------------------------------------------

/** The words of a shell line, quotes honoured, and its trailing `# comment`. */
function shellWords(line) {
  const words = [];
  let word = null;
  let i = 0;
  for (; i < line.length; i++) {
    const c = line[i];
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unterminated ${c} in: ${line}`);
      word = (word ?? "") + line.slice(i + 1, end);
      i = end;
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word), (word = null);
    } else if (c === "#" && word === null) break;
    else word = (word ?? "") + c;
  }
  if (word !== null) words.push(word);
  return { words, comment: line.slice(i + 1).trim() };
}

/** A curl line as the request it makes: `-X`, `-d` (curl's form content type) and the URL. */
function curlRequest(line) {
  const { words, comment } = shellWords(line);
  assert.equal(words[0], "curl", line);
  let method, body, url;
  for (let i = 1; i < words.length; i++) {
    const w = words[i];
    if (w === "-X" || w === "--request") method = words[++i];
    else if (w === "-d" || w === "--data" || w === "--data-raw") body = words[++i];
    else if (w === "-s" || w === "--silent") continue;
    else if (/^https?:\/\//.test(w)) url = w;
    else throw new Error(`curl option ${w} is not one this check reads: ${line}`);
  }
  assert.ok(url, `no URL in: ${line}`);
  method ??= body === undefined ? "GET" : "POST";
  const headers = body === undefined ? {} : { "content-type": "application/x-www-form-urlencoded" };
  return { line, comment, method, url, body, headers };
}

/** What a curl line's comment says it answers, as checks of its envelope: none, a success; an
 * error code first (`unknown_parameter, ...`); `stripe-mock's 400`, the upstream's refusal with
 * that status; `before any request`, no upstream request made. Anything else is refused: a
 * comment this check cannot read is one nobody checks. */
function expectation(comment, codes) {
  const checks = [];
  let rest = comment;
  const take = (re) => {
    const m = re.exec(rest);
    if (m) rest = (rest.slice(0, m.index) + rest.slice(m.index + m[0].length)).trim();
    return m;
  };
  let m;
  if (!comment) checks.push(["ok: true, with a result", (e) => e.ok === true && "result" in e]);
  else if ((m = /^([a-z_]+)(?![\w-])/.exec(rest)) && codes.includes(m[1])) {
    const code = take(/^([a-z_]+)[:,]?/)[1];
    checks.push([`ok: false, error.code ${code}`, (e) => e.ok === false && e.error?.code === code]);
  } else if ((m = take(/^stripe-mock's (\d{3})\b[:,]?/))) {
    const status = Number(m[1]);
    checks.push([`ok: false, upstream_error with status ${status}`, (e) => e.ok === false && e.error?.code === "upstream_error" && e.error.status === status]);
  } else throw new Error(`this check cannot read the comment "# ${comment}": start it with an error code or "stripe-mock's <status>"`);
  if (take(/\bbefore any request\b,?/)) checks.push(["no upstream request (receipt attempts 0, status null)", (e) => e.receipt?.attempts === 0 && e.receipt?.status === null]);
  return { checks, said: comment, unread: rest };
}

/** The README's "Two commands": its curl lines, the receipt keys it says each prints, and the
 * addresses it names for the demo caller and stripe-mock. */
function twoCommands() {
  const readme = readDoc("README.md");
  const start = readme.lines.findIndex((l) => /^## Two commands\s*$/.test(l));
  assert.ok(start >= 0, "README.md has no `## Two commands` section");
  const end = readme.lines.findIndex((l, i) => i > start && /^## /.test(l));
  const inSection = (line) => line > start && (end < 0 || line <= end);
  const curls = readme.blocks
    .filter((b) => b.lang === "sh" && inSection(b.start))
    .flatMap((b) => b.text.split("\n").map((text, i) => ({ text, line: b.start + i })))
    .filter((l) => /^curl\s/.test(l.text));
  const prose = readme.lines.slice(start, end < 0 ? undefined : end).join("\n");
  const printed = /its receipt \(([^)]*)\)/.exec(prose);
  assert.ok(printed, 'README.md\'s "Two commands" no longer says what each curl prints ("its receipt (`operation`, ...)")');
  const receiptKeys = [...printed[1].matchAll(/`(\w+)`/g)].map((m) => m[1]);
  return { curls, receiptKeys, prose };
}

test("README: the curl lines of \"Two commands\" answer as documented, against npm start's stack in workerd", async (t) => {
  const { Miniflare, convertV4MiniflareOptions } = await import("miniflare");
  const { stripeMock } = await import("./conformance/validators.mjs");
  const { curls, receiptKeys, prose } = twoCommands();
  assert.ok(curls.length >= 3, `only ${curls.length} curl line(s) found in README.md's "Two commands"`);
  assert.ok(receiptKeys.length >= 5, `the README names only ${receiptKeys.length} receipt key(s)`);

  // The addresses: what scripts/dev.sh serves and calls by default is what the README names.
  const dev = readFileSync(path.join(ROOT, "scripts", "dev.sh"), "utf8");
  const port = /^PORT="\$\{PORT:-(\d+)\}"/m.exec(dev)?.[1];
  const upstreamPort = /^UPSTREAM_PORT="\$\{UPSTREAM_PORT:-(\d+)\}"/m.exec(dev)?.[1];
  assert.ok(port && upstreamPort, "scripts/dev.sh no longer sets PORT and UPSTREAM_PORT defaults as this check reads them");
  const origin = `http://127.0.0.1:${port}`;
  assert.ok(prose.includes(`\`${origin}\``), `README.md's "Two commands" does not name the demo caller's address, ${origin} (scripts/dev.sh)`);
  assert.ok(prose.includes(`127.0.0.1:${upstreamPort}`), `README.md's "Two commands" does not name stripe-mock's address, 127.0.0.1:${upstreamPort} (scripts/dev.sh)`);
  // The capability's local vars: what scripts/dev.sh writes into .dev.vars.stripe.
  const heredoc = /cat > \.dev\.vars\.stripe <<(\w+)\n([\s\S]*?)\n\1\n/.exec(dev);
  assert.ok(heredoc, "scripts/dev.sh no longer writes .dev.vars.stripe as this check reads it");

  const codes = [...readFileSync(path.join(ROOT, "docs", "contract.md"), "utf8").matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
  const requests = curls.map(({ text, line }) => ({ ...curlRequest(text), at: `README.md:${line}` }));
  const problems = [];
  for (const r of requests) {
    if (new URL(r.url).origin !== origin) problems.push(`${r.at}: ${r.url} is not the demo caller's ${origin} (scripts/dev.sh)`);
    try {
      r.expect = expectation(r.comment, codes);
      if (r.expect.unread) t.diagnostic(`${r.at}: "${r.expect.unread}" is description, not checked`);
    } catch (e) {
      problems.push(`${r.at}: ${e.message}`);
    }
  }
  assert.deepEqual(problems, [], problems.join("\n"));

  // `npm start`'s stack: the demo caller and the Stripe capability as their wrangler configs wire
  // them under `--env stripe` (names, compatibility, bindings), the capability the bundle
  // `wrangler deploy --dry-run` built (dist/stripe), its vars those of .dev.vars.stripe, and
  // stripe-mock upstream (on a free port, as the conformance suite runs it).
  const dist = path.join(ROOT, "dist", "stripe");
  const wasm = existsSync(dist) ? readdirSync(dist).filter((f) => f.endsWith(".wasm")) : [];
  assert.equal(wasm.length, 1, `${dist}: expected the built Stripe capability; run \`wrangler deploy --dry-run --outdir dist/stripe --env stripe\``);
  const wrangler = await import("wrangler");
  const worker = (config) => {
    const configPath = path.join(ROOT, config);
    const { name } = wrangler.unstable_readConfig({ config: configPath, env: "stripe" }, { hideWarnings: true });
    const { workerOptions, main } = wrangler.unstable_getMiniflareWorkerOptions(configPath, "stripe");
    const { compatibilityDate, compatibilityFlags, bindings, serviceBindings } = workerOptions;
    return { name, main, compatibilityDate, compatibilityFlags, bindings, serviceBindings };
  };
  const demo = worker("demo/wrangler.toml");
  const capability = worker("wrangler.toml");
  let mf, mock;
  try {
    mock = await stripeMock();
    const vars = Object.fromEntries(
      heredoc[2]
        .replaceAll("$UPSTREAM_PORT", new URL(mock.origin).port)
        .split("\n")
        .map((l) => l.split(/=(.*)/s).slice(0, 2)),
    );
    assert.equal(vars.CAPA_LOOPBACK_ORIGIN, mock.origin, "scripts/dev.sh's .dev.vars.stripe no longer points the capability at the upstream");
    mf = new Miniflare(
      convertV4MiniflareOptions({
        cf: false,
        workers: [
          { name: demo.name, compatibilityDate: demo.compatibilityDate, compatibilityFlags: demo.compatibilityFlags, modules: true, scriptPath: demo.main, bindings: demo.bindings, serviceBindings: demo.serviceBindings },
          {
            name: capability.name,
            compatibilityDate: capability.compatibilityDate,
            compatibilityFlags: capability.compatibilityFlags,
            modulesRoot: dist,
            modules: [
              { type: "ESModule", path: path.join(dist, "entry.js") },
              { type: "CompiledWasm", path: path.join(dist, wasm[0]) },
            ],
            bindings: { ...capability.bindings, ...vars },
          },
        ],
      }),
    );
    await mf.ready;
    const failures = [];
    for (const r of requests) {
      const res = await mf.dispatchFetch(r.url, { method: r.method, body: r.body, headers: r.headers });
      const text = await res.text();
      let envelope;
      try {
        envelope = JSON.parse(text);
      } catch {
        failures.push(`${r.at}: ${r.line}\n  answered no JSON envelope (${res.status}): ${text.slice(0, 300)}`);
        continue;
      }
      const shown = JSON.stringify({ ok: envelope.ok, error: envelope.error, receipt: envelope.receipt }).slice(0, 600);
      const { receipt: rc = {} } = envelope;
      t.diagnostic(`${r.at}: ${r.method} ${new URL(r.url).pathname} → ${envelope.ok ? "ok" : `${envelope.error?.code} ${envelope.error?.status ?? ""}`.trim()} (${rc.call}, status ${rc.status}, attempts ${rc.attempts})`);
      for (const [what, holds] of r.expect.checks) {
        if (!holds(envelope)) failures.push(`${r.at}: ${r.line}\n  the README says: ${r.comment ? `# ${r.comment}` : "(no comment: a success)"}; expected ${what}\n  answered: ${shown}`);
      }
      const missing = receiptKeys.filter((k) => !(envelope.receipt && k in envelope.receipt));
      if (missing.length) failures.push(`${r.at}: ${r.line}\n  the README says each prints a receipt with ${receiptKeys.join(", ")}; missing ${missing.join(", ")}\n  answered: ${shown}`);
    }
    assert.deepEqual(failures, [], `README.md's curl lines do not answer as documented:\n${failures.join("\n")}`);
  } finally {
    await mf?.dispose();
    mock?.stop();
  }
});
