// Removes from a wasm module the exports the `worker` crate and its streams make for features
// this runtime never uses — containers, R2 ranges, minify settings, Rust streams as JS streams —
// so that wasm-opt drops the code they alone reach (the futures machinery among it: 8 KiB of the
// gzipped bundle). The JS glue still names them, but only inside the classes it would build
// for them, which nothing here constructs. scripts/build.sh runs this before wasm-opt.
//   node scripts/unexport.mjs build/<provider>/index_bg.wasm
import { readFileSync, writeFileSync } from "node:fs";

const UNUSED = /^(__wbg_)?(get_|set_)?(containerstartupoptions|minifyconfig|r2range|intounderlying(bytesource|sink|source))_/;

const file = process.argv[2];
const b = readFileSync(file);
const leb = (at) => {
  let value = 0, shift = 0, byte;
  do {
    byte = b[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, at];
};
const encode = (n) => {
  const out = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return Buffer.from(out);
};
const parts = [b.subarray(0, 8)];
let p = 8, removed = 0;
while (p < b.length) {
  const start = p;
  const id = b[p++];
  let size;
  [size, p] = leb(p);
  const end = p + size;
  if (id !== 7) {
    parts.push(b.subarray(start, end));
    p = end;
    continue;
  }
  let count;
  [count, p] = leb(p);
  const kept = [];
  for (let i = 0; i < count; i++) {
    const entry = p;
    let len;
    [len, p] = leb(p);
    const name = b.subarray(p, p + len).toString();
    p += len + 1;
    [, p] = leb(p);
    if (UNUSED.test(name)) removed++;
    else kept.push(b.subarray(entry, p));
  }
  const body = Buffer.concat([encode(kept.length), ...kept]);
  parts.push(Buffer.from([7]), encode(body.length), body);
  p = end;
}
writeFileSync(file, Buffer.concat(parts));
console.error(`unexport: ${removed} unused export(s) removed from ${file}`);
