// Bodies that are not one string, both ways: what the entry sends from a call's binary
// arguments, and how it reads a response it may hand back as bytes.
//
// Binary arguments never cross into wasm (src/js/args.js keeps them); the runtime describes the
// body it wants by reference (src/body.rs): the index of the bytes to send, or the list of a
// multipart body's parts, `[name, text]`, `[name, text, null, type]` (a text part the spec
// types) and `[name, index, filename, type]`. A FormData (or, with a typed text part, the Blob
// src/js/framed.js frames) writes its own boundary and Content-Type, which is why the runtime
// sets none.

/**
 * The fetch body the runtime described (a number or a list of parts), from `binaries`;
 * `framed` (src/js/framed.js) for an entry whose table types multipart text parts.
 */
export function requestBody(spec, binaries, framed) {
  if (typeof spec === "number") return binaries[spec];
  // A text part typed by the spec's `encoding` (`[name, text, null, type]`).
  if (framed && spec.some((part) => part.length === 4 && typeof part[1] === "string")) return framed(spec, binaries);
  const form = new FormData();
  for (const [name, value, filename, type] of spec) {
    if (typeof value === "string") form.append(name, value);
    else form.append(name, new Blob([binaries[value]], { type }), filename);
  }
  return form;
}

// Media types read as text: `text/*`, JSON and XML (`+json`, `+xml` included), forms,
// JavaScript; and any type that names a charset, which only text has. Any other success body is
// read as bytes and handed to the caller as a Uint8Array (a PDF, an archive, an image), not as a
// string mangled by decoding. A response that names no type is read as text, as before.
const TEXT = /^(?:text\/|application\/(?:json|xml|javascript|x-www-form-urlencoded|x-ndjson)(?:$|[\s;])|[^;]*\+(?:json|xml)(?:$|[\s;])|[^;]*;.*\bcharset=)/i;

/**
 * Whether the runtime reads a body of `type` as JSON: its essence `application/json` or
 * `*+json`, as `is_json` in src/media.rs decides.
 */
export function isJson(type) {
  if (type.startsWith("application/json") && (type.length === 16 || type[16] === ";" || type[16] === " ")) return true;
  const essence = type.split(";", 1)[0].trim().toLowerCase();
  return essence === "application/json" || essence.endsWith("+json");
}

/** Whether a success body of `type` (a Content-Type, or "") is read as text. */
export function isText(type) {
  // JSON first: nearly every response is, and a prefix test is cheaper than the pattern.
  return type === "" || type.startsWith("application/json") || TEXT.test(type.trimStart());
}

// Credentials are ASCII (the runtime refuses others), and UTF-8 decoding keeps every ASCII byte
// as it is (a broken sequence becomes U+FFFD, never swallows the ASCII after it), so the text
// of any bytes holds each credential form the bytes hold.
const utf8 = new TextDecoder();

/** `bytes` as text to scan for credentials. */
export function scanText(bytes) {
  return utf8.decode(bytes);
}

/**
 * The body of `res` as text, or as bytes (`asBytes`), when it holds at most `limit` bytes;
 * `null` when it holds more, and then the rest is not read (the body is cancelled): a response
 * over the capability's limit (src/retry.rs, `upstream_too_large`) never sits in memory whole.
 * A `Content-Length` decides at once, and a known, small body reads as it always did. Without
 * one, the bytes are counted as they arrive, read into one buffer that grows eightfold
 * (32 KiB, 256 KiB, 2 MiB, ..., the limit and one byte) with workerd's `readAtLeast`, which fills
 * it in one read where a plain reader hands over 4 KiB at a time (a 200 KB body: 2 reads, not
 * 49; bench/README.md).
 */
export async function readBody(res, limit, asBytes) {
  const length = res.headers.get("content-length");
  if (length !== null) {
    if (+length > limit) {
      await res.body?.cancel().catch(() => {});
      return null;
    }
    return asBytes ? new Uint8Array(await res.arrayBuffer()) : res.text();
  }
  if (res.body === null) return asBytes ? new Uint8Array(0) : "";
  const reader = res.body.getReader({ mode: "byob" });
  let buffer = new Uint8Array(Math.min(limit + 1, 32768));
  let size = 0;
  for (;;) {
    if (size === buffer.length) {
      if (size > limit) {
        await reader.cancel().catch(() => {});
        return null;
      }
      const bigger = new Uint8Array(Math.min(limit + 1, buffer.length * 8));
      bigger.set(buffer);
      buffer = bigger;
    }
    const { done, value } = await reader.readAtLeast(buffer.length - size, buffer.subarray(size));
    if (value) {
      buffer = new Uint8Array(value.buffer);
      size += value.byteLength;
    }
    if (done) break;
  }
  if (size > limit) return null;
  const bytes = buffer.subarray(0, size);
  return asBytes ? bytes : utf8.decode(bytes);
}
