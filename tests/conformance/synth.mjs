// Valid calls, made from a spec: for each operation, its path values and a params object built
// from the spec's own examples where it gives them, else synthesized from the schemas — every
// required parameter and field, and a rotating sample of the optional ones (nested form
// objects, deepObject queries, arrays included), so that successive rounds cover them all.
//
// Nothing here knows a provider: only OpenAPI. The calls go through the built capability to an
// independent validator (tests/conformance/*.test.mjs).

import { JSONSchemaFaker } from "json-schema-faker";

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];
// Strings a `pattern` constrains come from json-schema-faker (its regex-driven generator), made
// deterministic.
JSONSchemaFaker.option({ random: () => 0.37 });

export class Spec {
  constructor(doc) {
    this.doc = doc;
  }

  /** `value` with local `$ref`s followed (RFC 6901 pointers, percent-decoded). */
  resolve(value, depth = 0) {
    if (!value || typeof value !== "object" || typeof value.$ref !== "string" || depth > 32) return value;
    const ref = value.$ref;
    if (!ref.startsWith("#")) return value;
    let at = this.doc;
    for (const raw of decodeURIComponent(ref.slice(1)).split("/").slice(1)) at = at?.[raw.replace(/~1/g, "/").replace(/~0/g, "~")];
    return this.resolve(at, depth + 1);
  }

  /** Every operation: `{ id, method, path, op, item }`. */
  operations() {
    const out = [];
    for (const [path, item] of Object.entries(this.doc.paths ?? {})) {
      for (const method of METHODS) {
        const op = item[method];
        if (op) out.push({ id: op.operationId ?? `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path, op, item: this.resolve(item) });
      }
    }
    return out;
  }
}

/** A deterministic choice: the `round`-th of `n` alternatives, varied by `salt`. */
const choose = (n, round, salt) => (n <= 1 ? 0 : (((round * 7919 + hash(salt)) % n) + n) % n);
function hash(s) {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** A value valid for `schema`. `round` rotates alternatives and optional members. */
export function synth(spec, schema, { round = 0, depth = 0, name = "" } = {}) {
  schema = spec.resolve(schema) ?? {};
  if (schema.example !== undefined && depth > 0) return schema.example;
  if (schema.enum?.length) {
    const usable = schema.enum.filter((v) => v !== "" && v !== null);
    return usable.length ? usable[choose(usable.length, round, name)] : schema.enum[0];
  }
  for (const key of ["anyOf", "oneOf"]) {
    if (Array.isArray(schema[key])) {
      // Stripe's "unset" alternative (`enum: [""]`) is valid but says nothing: prefer the others.
      const alternatives = schema[key].map((s) => spec.resolve(s)).filter((s) => !(s?.enum?.length === 1 && s.enum[0] === ""));
      const pick = alternatives.length ? alternatives : schema[key];
      return synth(spec, pick[choose(pick.length, round, name + key)], { round, depth, name });
    }
  }
  if (Array.isArray(schema.allOf)) {
    const merged = {};
    for (const part of schema.allOf) Object.assign(merged, synth(spec, part, { round, depth, name }) ?? {});
    return merged;
  }
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  switch (type ?? (schema.properties ? "object" : schema.items ? "array" : "string")) {
    case "integer": {
      // 3.0's exclusiveMinimum is a flag on minimum; 3.1's the bound itself.
      const min = typeof schema.exclusiveMinimum === "number" ? schema.exclusiveMinimum + 1 : (schema.minimum ?? 0) + (schema.exclusiveMinimum === true ? 1 : 0);
      return Math.max(1, Math.ceil(min));
    }
    case "number":
      return Math.max(1.5, schema.minimum ?? 0);
    case "boolean":
      return round % 2 === 0;
    case "array": {
      if (depth > 6) return [];
      return [synth(spec, schema.items ?? {}, { round, depth: depth + 1, name })];
    }
    case "object":
      return object(spec, schema, { round, depth, name });
    default: {
      // A file (3.0's `format: binary`, 3.1's `contentMediaType`): bytes, which the caller Worker
      // makes a Uint8Array (tests/harness.mjs).
      if (schema.format === "binary" || schema.contentMediaType) return BYTES;
      if (schema.format === "date-time") return "2026-01-01T00:00:00Z";
      if (schema.format === "date") return "2026-01-01";
      if (schema.format === "email") return "jenny@example.com";
      if (schema.format === "uri") return "https://example.com";
      if (schema.pattern) return JSONSchemaFaker.generate({ type: "string", pattern: schema.pattern, minLength: schema.minLength, maxLength: schema.maxLength });
      const text = "example";
      return schema.maxLength !== undefined ? text.slice(0, Math.max(1, schema.maxLength)) : text;
    }
  }
}

const BYTES = { $bytes: Buffer.from("capa conformance \x00\xff").toString("base64") };

function object(spec, schema, { round, depth, name }) {
  const out = {};
  const props = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const optional = Object.keys(props).filter((k) => !required.has(k));
  // Optional members rotate: a few per round, deeper objects fewer.
  const take = depth > 3 ? 0 : Math.min(optional.length, depth === 0 ? 3 : 1);
  const picked = new Set();
  for (let i = 0; i < take; i++) picked.add(optional[(((round * take + i + hash(name)) % optional.length) + optional.length) % optional.length]);
  // A form body cannot say "an empty object": an object whose members are all optional gets one,
  // or, given as a required value, it would not be sent at all.
  if (picked.size === 0 && required.size === 0 && optional.length && depth > 0) picked.add(optional[choose(optional.length, round, name)]);
  for (const [key, sub] of Object.entries(props)) {
    if (!required.has(key) && !picked.has(key)) continue;
    if (key === "expand") continue;
    out[key] = synth(spec, sub, { round, depth: depth + 1, name: `${name}.${key}` });
  }
  // A map (`additionalProperties`): one entry of its value schema.
  if (Object.keys(props).length === 0 && schema.additionalProperties) {
    const values = schema.additionalProperties === true ? { type: "string" } : schema.additionalProperties;
    out.usd = synth(spec, values, { round, depth: depth + 1, name: `${name}.*` });
  }
  return out;
}

/**
 * A call of `operation` whose arguments the spec's schemas accept: `{ path: [...], params }`
 * (`params` undefined when the operation takes none), `table` the capability's method table
 * entry (which keys go where).
 */
export function validCall(spec, operation, tableEntry, round) {
  const { op, item } = operation;
  const declared = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p) => spec.resolve(p));
  const path = tableEntry.pathParams.map((name) => {
    const p = declared.find((d) => d.in === "path" && d.name === name);
    const example = p?.example ?? firstExample(spec, p?.examples);
    if (example !== undefined) return example;
    const schema = spec.resolve(p?.schema ?? {});
    return schema.type === "integer" ? synth(spec, schema, { round, name }) : schema.enum?.[0] ?? `${name}_123`;
  });
  const params = {};
  const optionalQuery = declared.filter((p) => p.in === "query" && !p.required && p.name !== "expand");
  const picked = new Set(optionalQuery.slice(round % Math.max(1, optionalQuery.length), (round % Math.max(1, optionalQuery.length)) + 2).map((p) => p.name));
  for (const p of declared) {
    if (!tableEntry.params.some((t) => t.name === p.name)) continue; // a header the manifest owns, say
    if (p.in === "query" || p.in === "header") {
      if (!p.required && !picked.has(p.name)) continue;
      const example = p.example ?? firstExample(spec, p.examples);
      params[p.name] = example !== undefined ? example : synth(spec, p.schema ?? {}, { round, name: p.name });
    }
  }
  const body = spec.resolve(op.requestBody);
  if (body?.content) {
    const [media, content] = Object.entries(body.content).find(([m]) => m.includes("json")) ?? Object.entries(body.content)[0];
    const example = content.example ?? firstExample(spec, content.examples);
    const value = example !== undefined ? example : synth(spec, content.schema ?? {}, { round, name: operation.id });
    if (tableEntry.body === "binary") {
      const whole = example !== undefined && typeof example === "string" ? example : BYTES;
      if (tableEntry.params.length) params.body = whole;
      else return { path, params: whole, media };
    } else if (tableEntry.body === "text") {
      const whole = typeof value === "string" ? value : "example";
      if (tableEntry.params.length) params.body = whole;
      else return { path, params: whole, media };
    } else if (tableEntry.body === "jsonValue") {
      if (tableEntry.params.length) params.body = value;
      else return { path, params: value, media };
    } else if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) {
        if (tableEntry.open || tableEntry.params.some((t) => t.name === k)) params[k] = v;
      }
    }
  }
  const takes = tableEntry.params.length > 0 || tableEntry.open || ["jsonValue", "text", "binary"].includes(tableEntry.body);
  return { path, params: takes ? params : undefined };
}

function firstExample(spec, examples) {
  if (!examples || typeof examples !== "object") return undefined;
  for (const e of Object.values(examples)) {
    const example = spec.resolve(e);
    if (example && "value" in example) return example.value;
  }
  return undefined;
}
