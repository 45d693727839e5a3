// A call's arguments as the JSON text the runtime reads (src/call/round.rs), refusing values JSON
// would change without a word.
//
// `JSON.stringify` turns a Map, a Set or a typed array into `{}` or a bag of indices, NaN into
// null (which a form body sends as `key=`, Stripe's "unset"), and drops functions; the upstream
// would receive something the caller never wrote. So the arguments are walked first, and the
// first such value is reported instead of sent: "\0" followed by the JSON array
// `[kind, ...path]`, which the runtime answers with `invalid_argument` naming both. Only JSON's
// own values pass: null, booleans, finite numbers, strings, arrays and plain objects. An object
// member that is `undefined` is absent, as in `JSON.stringify` (an optional parameter left out);
// a trailing `undefined` argument is an argument not given.
//
// Binary values are the exception: a `Uint8Array` (any typed array or DataView), an
// `ArrayBuffer` or a `Blob` (`File`) cannot cross as JSON, and need not: the bytes stay here and
// the runtime is told where each one was. Then the text is "\u0001", the JSON array of reports
// `[size, type, name, ...path]` (a Blob's `type`, a File's `name`), "\u0001", and the arguments'
// JSON with each binary written as `null`; `takeBinaries()` hands the values, in report order,
// to the entry, which sends the ones the runtime's request names (src/wasm/mod.rs). Reports come
// from this walk, not from the JSON, so no argument can pose as binary data.

// Containers nest at most this deep, the argument list being the first: as deep as the
// runtime's parser goes (serde_json refuses the 128th level).
const MAX_DEPTH = 127;

// Set by the walk when it passes binary data; the values found, for `takeBinaries`.
let sawBinary = false;
let binaries = null;

/** The JSON text of `args`, or "\0" and the report of the first value JSON cannot carry. */
export function argsJson(args) {
  sawBinary = false;
  binaries = null;
  const odd = oddValue(args, 0);
  if (odd !== undefined) {
    const [kind, ...path] = odd;
    return "\0" + JSON.stringify([kind, ...path.reverse()]);
  }
  try {
    return sawBinary ? withBinaries(args) : JSON.stringify(args);
  } catch {
    return "\0" + JSON.stringify(["unserializable"]);
  }
}

/** The binary values of the arguments `argsJson` read last, in the order it reported them. */
export function takeBinaries() {
  const found = binaries;
  binaries = null;
  return found ?? [];
}

function isBinary(v) {
  return v instanceof ArrayBuffer || ArrayBuffer.isView(v) || (typeof Blob === "function" && v instanceof Blob);
}

function withBinaries(args) {
  const found = [];
  const reports = [];
  const path = [];
  (function walk(v) {
    if (typeof v !== "object" || v === null) return;
    if (isBinary(v)) {
      const blob = typeof Blob === "function" && v instanceof Blob;
      reports.push([blob ? v.size : v.byteLength, blob ? v.type : "", blob && typeof v.name === "string" ? v.name : "", ...path]);
      found.push(v);
      return;
    }
    const keys = Array.isArray(v) ? v.keys() : Object.keys(v);
    for (const key of keys) {
      path.push(key);
      walk(v[key]);
      path.pop();
    }
  })(args);
  binaries = found;
  const json = JSON.stringify(args, (_, v) => (typeof v === "object" && v !== null && isBinary(v) ? null : v));
  return "\u0001" + JSON.stringify(reports) + "\u0001" + json;
}

// `[kind, ...path, reversed]` of the first odd value inside `v`, or undefined.
function oddValue(v, depth) {
  switch (typeof v) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(v) ? undefined : [String(v)];
    case "object":
      break;
    default:
      // function (an RPC stub, over a service binding), bigint, symbol, undefined in an array.
      return [typeof v];
  }
  if (v === null) return undefined;
  if (depth >= MAX_DEPTH) return ["depth"];
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      // Trailing undefined arguments are arguments not given.
      if (depth === 0 && v[i] === undefined) continue;
      const odd = oddValue(v[i], depth + 1);
      if (odd !== undefined) return odd.push(String(i)), odd;
    }
    return undefined;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) {
    if (isBinary(v)) return void (sawBinary = true);
    return [Object.prototype.toString.call(v).slice(8, -1)];
  }
  for (const key of Object.keys(v)) {
    const x = v[key];
    if (x === undefined) continue;
    const odd = oddValue(x, depth + 1);
    if (odd !== undefined) return odd.push(key), odd;
  }
  return undefined;
}
