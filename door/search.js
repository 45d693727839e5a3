// `search`: ranked lookup of operations by the words in their name, path, summary and
// parameter names (MiniSearch's BM25+), among the operations a grant reaches.
//
// One index per capability, built from the generator's documents (generated/<p>/door.json) the
// first time an isolate searches that capability, then kept for the isolate's life: the
// documents are bundled, so building at isolate start or at first use costs the same, and
// building it lazily spares requests that never search (tools/list, call). A grant's reach is
// applied as a filter at query time, so one index serves every grant (docs/door.md gives the
// build time measured for GitHub's 1,223 operations).
//
// Words are split at camelCase, `.`, `/`, `_`, `-` and braces, lower-cased, and reduced by a
// small stemmer (plurals, `-ing`, `-ed`), so "payment intent" meets `paymentIntents`; common
// words of a request ("a", "the", "of") are dropped from queries and documents alike.
import MiniSearch from "minisearch";

const STOP = new Set(["a", "an", "the", "of", "to", "for", "by", "on", "in", "at", "with", "from", "and", "or", "my", "me", "i", "is", "it", "this", "that", "be", "as", "its", "your", "you", "all", "any", "into", "using", "via"]);

/** A word's stem: enough to meet plurals and verb forms. */
export function stem(word) {
  let w = word;
  if (w.length > 4 && w.endsWith("ies")) w = w.slice(0, -3) + "y";
  else if (w.length > 4 && /(ss|sh|ch|x)es$/.test(w)) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith("s") && !w.endsWith("ss") && !w.endsWith("us") && !w.endsWith("is")) w = w.slice(0, -1);
  if (w.length > 5 && w.endsWith("ing")) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith("ed") && !w.endsWith("eed")) w = w.slice(0, -2);
  if (w.length > 4 && w.endsWith("e")) w = w.slice(0, -1);
  return w;
}

// Words that mean the same to an agent: a stem on the left stands for itself and those on the
// right, in documents' names (where a method says `del` an agent says "cancel" or "remove").
const NAME_SYNONYMS = { del: "delet remov cancel", delet: "remov", creat: "add new make start open", get: "retriev fetch show read", retriev: "get fetch show read", updat: "edit chang modify", dispatch: "trigger", list: "all" };
// Spellings of one thing, in queries and documents alike.
const SAME = { repository: "repo", repositori: "repo", pr: "pull" };

/** Text as search words. */
export function words(text) {
  return String(text)
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w && !STOP.has(w))
    .map(stem)
    .map((w) => SAME[w] ?? w)
    // GitHub's `pulls` are pull requests: the phrase is one word.
    .filter((w, i, all) => !(w === "request" && all[i - 1] === "pull"));
}

/** The act an operation's method names, with what stands for it: `createComment` → creat, add, … */
function verbWords(name) {
  const method = name.split(".").pop();
  const first = words(method)[0] ?? "";
  return new Set([first, ...(NAME_SYNONYMS[first]?.split(" ") ?? [])]);
}

/** A name's words with what they stand for (NAME_SYNONYMS). */
function nameWords(name) {
  return words(name.split(".").join(" ")).flatMap((w) => (NAME_SYNONYMS[w] ? [w, ...NAME_SYNONYMS[w].split(" ")] : [w]));
}

/** The words of an operation's last resource (`subscriptions` of `subscriptions.del`). */
function headWords(name) {
  const parts = name.split(".");
  return words(parts[parts.length - 2] ?? "");
}

// The first words of a method that are verbs: a query holding one of them names its act.
const VERB_WORDS = new Set(["get", "list", "creat", "updat", "delet", "del", "remov", "add", "set", "retriev", "cancel", "start", "send", "make", "fetch", "show", "search", "find", "check", "trigger", "request", "merge", "attach", "refund", "run", "edit", "upload", "download"]);

const OPTIONS = {
  idField: "id",
  fields: ["name", "method", "path", "summary", "params"],
  storeFields: [],
  tokenize: (text, field) => (field === "name" ? text.split(" ") : words(text)),
  processTerm: (t) => t,
};

// The verbs an agent says, as each HTTP method and method name says them.
const VERBS = { GET: "get list retrieve read show fetch", POST: "create add make post send start", PUT: "set replace update", PATCH: "update edit change", DELETE: "delete remove del cancel" };

/** The index of one capability's documents (`doc`: door.json). */
export function buildIndex(doc) {
  const index = new MiniSearch(OPTIONS);
  index.addAll(
    doc.operations.map((op, id) => ({
      id,
      name: nameWords(op.name).join(" "),
      method: VERBS[op.method] ?? "",
      path: op.path.replace(/\{[^}]*\}/g, " "),
      summary: op.summary,
      params: [...op.path_params, ...op.params.map((p) => p[0])].join(" "),
    })),
  );
  return index;
}

const HEADS = new WeakMap();
/** Each operation's head words, computed once per document. */
function heads(doc) {
  let h = HEADS.get(doc);
  if (!h) HEADS.set(doc, (h = doc.operations.map((op) => headWords(op.name))));
  return h;
}

const VERBS_OF = new WeakMap();
/** Each operation's act words, computed once per document. */
function verbs(doc) {
  let v = VERBS_OF.get(doc);
  if (!v) VERBS_OF.set(doc, (v = doc.operations.map((op) => verbWords(op.name))));
  return v;
}

const BOOST = { name: 4, summary: 2, path: 1, method: 0.5, params: 0.3 };

/**
 * Search `indexes` (`[{ capability, doc, index, reach: Set<name> }]`) for `query`: the best
 * `limit` operations any of them reaches, as `{ capability, op, score }`, best first.
 */
export function search(indexes, query, limit) {
  const hits = [];
  const terms = words(query);
  // A query that begins with a noun used as a verb ("comment on an issue", "star a repo")
  // asks to make one: it also says "create", weighed less than its own words.
  const asked = terms.length > 0 && !VERB_WORDS.has(terms[0]) ? `${query} create` : query;
  const said = new Set(terms);
  for (const { capability, doc, index, reach } of indexes) {
    if (reach.size === 0) continue;
    const found = index.search(asked, {
      boost: BOOST,
      prefix: (term) => term.length >= 4,
      fuzzy: (term) => (term.length >= 6 ? 0.15 : false),
      combineWith: "OR",
      filter: (r) => reach.has(doc.operations[r.id].name),
      // An operation that is its resource's plain verb (`issues.create`) outranks a deeper one
      // (`issues.comments.create`) naming the same words.
      // An operation whose resource the query names whole (`subscriptions` for "cancel a
      // subscription", not `subscriptionSchedules`) outranks one that shares a word with it.
      boostDocument: (id) => {
        const name = doc.operations[id].name;
        const head = heads(doc)[id];
        const whole = head.length > 0 && head.every((w) => said.has(w)) ? 1.6 : 1;
        // An operation doing the act the query asks for ("get", "start": create) outranks one
        // that only shares its nouns.
        const act = verbs(doc)[id];
        const acts = terms.some((t) => VERB_WORDS.has(t) && act.has(t)) ? 1.5 : 1;
        return (whole * acts) / Math.sqrt(name.split(".").length - 1);
      },
      boostTerm: (term, i, all) => (asked !== query && i === all.length - 1 ? 0.3 : 1),
    });
    for (const r of found.slice(0, limit)) hits.push({ capability, op: doc.operations[r.id], score: r.score });
  }
  hits.sort((a, b) => b.score - a.score);
  return hits.slice(0, limit);
}
