// Multipart bodies with typed text parts (the spec's `encoding` gives a field a `contentType`),
// which a FormData cannot write: it types a part only by making it a file. Only the entry of a
// provider whose table has such a body imports this (generator/src/emit/js.rs), as only its
// wasm makes them (`capa_typed_parts`, build.rs); src/js/body.js's `requestBody` calls it.

// A part's name or file name in its Content-Disposition, escaped as FormData escapes them
// (WHATWG: `"`, CR and LF percent-encoded).
const quoted = (s) => `"${s.replace(/["\r\n]/g, encodeURIComponent)}"`;

/**
 * A multipart body framed here, as FormData would frame it but with each typed text part's
 * `Content-Type`: FormData cannot type a text part without making it a file. The boundary is
 * random per request and never leaves the Worker, so no caller can write a part's end into a
 * value; the Blob's type is the body's Content-Type, boundary and all, as FormData's would be.
 */
export function framed(spec, binaries) {
  const boundary = `capa${crypto.randomUUID().replaceAll("-", "")}`;
  const chunks = [];
  for (const [name, value, filename, type] of spec) {
    const file = typeof value !== "string";
    const disposition = `Content-Disposition: form-data; name=${quoted(name)}${file ? `; filename=${quoted(filename)}` : ""}`;
    chunks.push(`--${boundary}\r\n${disposition}${type ? `\r\nContent-Type: ${type}` : ""}\r\n\r\n`, file ? binaries[value] : value, "\r\n");
  }
  chunks.push(`--${boundary}--\r\n`);
  return new Blob(chunks, { type: `multipart/form-data; boundary=${boundary}` });
}
