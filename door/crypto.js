// The door's keys, and what it does with them: token digests (HMAC-SHA-256 under DOOR_TOKEN_KEY,
// so a leaked grant table holds no token), constant-time comparison, and tenant credentials
// sealed at rest (AES-GCM-256 under a key HKDF derives from DOOR_SEAL_KEY, the grant's id and
// capability bound in as additional data so a sealed credential cannot be moved to another
// grant). Keys never leave this module's callers; nothing here logs.

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Bytes as unpadded base64url. */
export function b64url(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function unb64url(text) {
  const s = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** A new grant's id (public: it names the grant in revocations) and its token. */
export function newToken() {
  const id = hex(crypto.getRandomValues(new Uint8Array(8)));
  return { id, token: `capa_${id}_${b64url(crypto.getRandomValues(new Uint8Array(32)))}` };
}

/** The grant id a token names, or null when it is no token of this door's form. */
export function tokenId(token) {
  const m = /^capa_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/.exec(token ?? "");
  return m ? m[1] : null;
}

async function hmacKey(secret) {
  return crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

/** The token's digest under the door's token key, hex. */
export async function digest(secret, token) {
  return hex(new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), enc.encode(token))));
}

/** Whether two strings are equal, in time that depends on their length alone. */
export function sameText(a, b) {
  const x = enc.encode(String(a));
  const y = enc.encode(String(b));
  if (x.length !== y.length) return false;
  if (crypto.subtle.timingSafeEqual) return crypto.subtle.timingSafeEqual(x, y);
  let d = 0;
  for (let i = 0; i < x.length; i++) d |= x[i] ^ y[i];
  return d === 0;
}

async function sealKey(secret) {
  const base = await crypto.subtle.importKey("raw", enc.encode(secret), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: enc.encode("capa-door"), info: enc.encode("grant credentials v1") }, base, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}

/** `value` (JSON) sealed for grant `id`'s `capability`: `{ iv, data }`, base64url. */
export async function seal(secret, id, capability, value) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: enc.encode(`${id}/${capability}`) }, await sealKey(secret), enc.encode(JSON.stringify(value)));
  return { iv: b64url(iv), data: b64url(new Uint8Array(data)) };
}

/** What `seal` sealed, or throws. */
export async function unseal(secret, id, capability, sealed) {
  const clear = await crypto.subtle.decrypt({ name: "AES-GCM", iv: unb64url(sealed.iv), additionalData: enc.encode(`${id}/${capability}`) }, await sealKey(secret), unb64url(sealed.data));
  return JSON.parse(dec.decode(clear));
}
