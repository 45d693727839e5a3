// The entry's argument check (src/js/args.js): JSON's own values pass as JSON.stringify writes
// them; anything JSON would change without a word is reported, with where it is.
import { test } from "node:test";
import assert from "node:assert/strict";
import { argsJson, takeBinaries } from "../../src/js/args.js";

const report = (args) => {
  const out = argsJson(args);
  assert.equal(out[0], "\0", `expected a report for ${String(args)}`);
  return JSON.parse(out.slice(1));
};

test("args: JSON values pass unchanged", () => {
  const plain = [["cus_1", { expand: ["a"], metadata: { k: "v" }, n: -0, f: 1.5, t: true, z: null }, { auth: { apiKey: "k" } }], [], [1, "x", null, false]];
  for (const args of plain) assert.equal(argsJson(args), JSON.stringify(args));
  // undefined members are absent, and undefined arguments are arguments not given.
  assert.equal(argsJson([{ a: 1, b: undefined }, undefined]), '[{"a":1},null]');
  assert.equal(argsJson([Object.assign(Object.create(null), { a: 1 })]), '[{"a":1}]');
  // An own __proto__ key is data, as JSON has it.
  assert.equal(argsJson([JSON.parse('{"__proto__":{"x":1},"constructor":"c"}')]), '[{"__proto__":{"x":1},"constructor":"c"}]');
});

test("args: binary data stays here, reported where it was; nothing else can pose as it", () => {
  const u8 = new Uint8Array([1, 2, 3]);
  const buf = new ArrayBuffer(2);
  const blob = new Blob(["abcd"], { type: "image/png" });
  const view = new DataView(new ArrayBuffer(5));
  const out = argsJson([7, { body: u8, files: [buf, { data: blob }], v: view }]);
  const [, reports, json] = out.split("\u0001");
  assert.equal(out[0], "\u0001");
  assert.deepEqual(JSON.parse(reports), [
    [3, "", "", 1, "body"],
    [2, "", "", 1, "files", 0],
    [4, "image/png", "", 1, "files", 1, "data"],
    [5, "", "", 1, "v"],
  ]);
  assert.equal(json, '[7,{"body":null,"files":[null,{"data":null}],"v":null}]');
  const found = takeBinaries();
  assert.equal(found.length, 4);
  assert.ok(found[0] === u8 && found[1] === buf && found[2] === blob && found[3] === view);
  assert.deepEqual(takeBinaries(), [], "taken once");
  // Text holding the separator, or an object shaped like a report, is plain JSON.
  for (const args of [["\u0001[[3]]\u0001[null]"], [{ $bytes: "AAA=" }], [[3, "", "", 0]]]) {
    assert.equal(argsJson(args), JSON.stringify(args));
    assert.deepEqual(takeBinaries(), []);
  }
  // Binary data beside a value JSON would change: the change is reported.
  assert.deepEqual(report([{ body: u8, m: new Map() }]), ["Map", "0", "m"]);
});

test("args: values JSON would change are reported with their path", () => {
  assert.deepEqual(report([{ metadata: new Map([["a", 1]]) }]), ["Map", "0", "metadata"]);
  assert.deepEqual(report(["cus_1", { tags: new Set(["a"]) }]), ["Set", "1", "tags"]);
  assert.deepEqual(report([{ amount: NaN }]), ["NaN", "0", "amount"]);
  assert.deepEqual(report([{ amount: Infinity }]), ["Infinity", "0", "amount"]);
  assert.deepEqual(report([{ f: () => 1 }]), ["function", "0", "f"]);
  assert.deepEqual(report([{ n: 10n }]), ["bigint", "0", "n"]);
  assert.deepEqual(report([{ s: Symbol("x") }]), ["symbol", "0", "s"]);
  assert.deepEqual(report([{ list: [1, undefined] }]), ["undefined", "0", "list", "1"]);
  assert.deepEqual(report([{ list: [1, , 3] }]), ["undefined", "0", "list", "1"]);
  assert.deepEqual(report([{ when: new Date(0) }]), ["Date", "0", "when"]);
  assert.deepEqual(report([{ re: /x/ }]), ["RegExp", "0", "re"]);
  class Thing {}
  assert.deepEqual(report([{ t: new Thing() }]), ["Object", "0", "t"]);
  const cyclic = { a: {} };
  cyclic.a.b = cyclic;
  assert.equal(report([cyclic])[0], "depth");
  // 127 levels, the argument list the first, is what the runtime's parser reads (src/args.rs
  // holds it to the same number): the deepest passes, one more is reported.
  const nest = (n) => (n === 1 ? [] : [nest(n - 1)]);
  assert.equal(argsJson(nest(127)), JSON.stringify(nest(127)));
  assert.equal(report(nest(128))[0], "depth");
  let deep = {};
  const root = deep;
  for (let i = 0; i < 1000; i++) deep = deep.x = {};
  assert.equal(report([root])[0], "depth");
});
