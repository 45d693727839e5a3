// Which operations a rights value reaches, for the door's `search` and tool list.
//
// The capability judges every call (the door calls through `withAuth(auth, rights)`, whose
// session refuses what the rights do not allow); the door must know the same set beforehand, so
// that search never offers an operation the grant refuses. These are the runtime's rules
// (src/rights.rs, src/grant.rs's `layer_of`) read in JS over the generator's documents
// (generated/<p>/door.json): one rule set, held to the runtime by tests/door/rights.test.mjs,
// which asks the built capability about every operation of Stripe and GitHub under more than
// twenty rights values and fails on any disagreement.
//
// - A pattern is `resource.method`, `resource.*` (everything below, any depth) or a class.
// - Entries are trimmed of ASCII spaces (U+0020) alone; blank ones are skipped.
// - A list holds at most 256 entries (blank ones count), each at most 256 bytes of UTF-8.
// - An entry naming no class and no operation, a list past its bounds, an unknown member or a
//   value of the wrong kind: the rights are no rights, and reach nothing (the session answers
//   every call `invalid_argument`).
// - `only` (absent or null: everything), minus `except`, and `readOnly` keeps the `read` class.

const MAX_ENTRIES = 256;
const MAX_ENTRY_LEN = 256;
const utf8 = new TextEncoder();

/** A list's entries, or null when it is no list (the rights then reach nothing). */
function entries(value) {
  if (value === null || value === undefined) return { absent: true };
  let items;
  if (typeof value === "string") items = value.split(",");
  else if (Array.isArray(value)) {
    if (value.length > MAX_ENTRIES) return null;
    if (value.some((v) => typeof v !== "string")) return null;
    items = value;
  } else return null;
  if (items.length > MAX_ENTRIES) return null;
  if (items.some((e) => utf8.encode(e).length > MAX_ENTRY_LEN)) return null;
  return { items: items.map((e) => e.replace(/^ +| +$/g, "")).filter((e) => e !== "") };
}

/** A matcher for one entry against `doc`'s operations, or null when it names nothing. */
function pattern(doc, entry) {
  // A class (the runtime holds at most eight, as bits: a ninth names nothing).
  if (doc.classes.includes(entry)) return doc.classes.indexOf(entry) < 8 ? (op) => op.classes.includes(entry) : null;
  const below = entry.endsWith(".*") ? entry.slice(0, -2) : null;
  const matches = below !== null ? (op) => op.name.length > below.length && op.name.startsWith(below) && op.name[below.length] === "." : (op) => op.name === entry;
  return doc.operations.some(matches) ? matches : null;
}

/**
 * The names of `doc`'s operations that `rights` (`{ only?, except?, readOnly? }`, or null:
 * everything) allows, as a Set.
 */
export function reach(doc, rights) {
  const none = new Set();
  if (rights === null || rights === undefined) return new Set(doc.operations.map((op) => op.name));
  if (typeof rights !== "object" || Array.isArray(rights)) return none;
  let only = null;
  let except = [];
  let readOnly = false;
  for (const [key, value] of Object.entries(rights)) {
    if (value === undefined) continue;
    if (key === "only" || key === "except") {
      const list = entries(value);
      if (list === null) return none;
      if (list.absent) continue;
      const matchers = list.items.map((e) => pattern(doc, e));
      if (matchers.includes(null)) return none;
      if (key === "only") only = matchers;
      else except = matchers;
    } else if (key === "readOnly") {
      if (value === true) readOnly = true;
      else if (value !== false && value !== null) return none;
    } else return none;
  }
  const out = new Set();
  for (const op of doc.operations) {
    if (readOnly && !op.classes.includes("read")) continue;
    if (only && !only.some((m) => m(op))) continue;
    if (except.some((m) => m(op))) continue;
    out.add(op.name);
  }
  return out;
}

// Classes a grant reaches only when it names them: whatever else it says, a grant that does not
// name `destructive` or `money` (in `only`) does not reach them.
const NAMED_ONLY = ["destructive", "money"];

/**
 * The rights a grant's entry for one capability stands for: read-only unless it says
 * `readOnly: false`; `destructive` and `money` (where the provider has them) excepted unless
 * `only` names them. What the door passes to `withAuth` and reads reach from.
 */
export function grantRights(doc, given = {}) {
  const only = given.only ?? null;
  const named = new Set((typeof only === "string" ? only.split(",") : Array.isArray(only) ? only : []).map((e) => String(e).replace(/^ +| +$/g, "")));
  const except = given.except === undefined || given.except === null ? [] : typeof given.except === "string" ? given.except.split(",") : [...given.except];
  for (const c of NAMED_ONLY) if (doc.classes.includes(c) && !named.has(c) && !except.includes(c)) except.push(c);
  return { ...(only !== null ? { only } : {}), except, readOnly: given.readOnly === false ? false : true };
}
