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
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT } from "./harness.mjs";

/** The docs this suite reads, relative to the repository's root. */
export function docFiles() {
  const docs = readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`).sort();
  return ["README.md", ...(existsSync(path.join(ROOT, "ARCHITECTURE.md")) ? ["ARCHITECTURE.md"] : []), ...docs, "bench/README.md"];
}

/**
 * A markdown file read into what the checks need: its lines, which of them are inside a fenced
 * block, its fenced blocks ({ lang, start (1-based line of the first content line), text }),
 * its inline code spans and link targets (each with its line), and its headings' anchors.
 */
export function readDoc(file) {
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
export function githubSlug(heading) {
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
const PENDING = new Map([["ARCHITECTURE.md", "written on another branch (issue 24); drop this entry once it lands"]]);

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
  for (const doc of docs.values()) {
    for (const { line, path: p } of pathsInCode(doc, top)) {
      checked++;
      if (process.env.DOCS_DEBUG) console.log("PATH", doc.file, line, p);
      if (!exists(p, entries)) broken.push(`${doc.file}:${line}: \`${p}\` names no file or directory of the repository`);
    }
    for (const { line, target } of doc.links) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      checked++;
      if (process.env.DOCS_DEBUG) console.log("LINK", doc.file, line, target);
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
export const SNIPPET_PRELUDE = {
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
export function writeSnippets(dir) {
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
export function checkSnippets(dir, snippets) {
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
