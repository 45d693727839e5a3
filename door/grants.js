// Grants: who may use the door, and what they reach. A Durable Object of the door's own
// (DOOR_GRANTS, one instance named "grants"), so an issue or a revocation is seen by the next
// request of every isolate, and budgets are counted in one place.
//
// A grant, as stored under `grant:<id>`:
//   { id, digest, label, expiresAt, budget: { perMinute, writesPerMinute },
//     capabilities: { <capability>: { rights, sealed? } } }
// - `digest`: HMAC-SHA-256 of the token under DOOR_TOKEN_KEY (door/crypto.js). The token itself
//   is shown once, when issued, and never stored; a request's token is found by the id it
//   carries (`capa_<id>_<secret>`) and its digest compared in constant time.
// - `rights`: what the door passes to the capability's `withAuth` and reads reach from
//   (door/rights.js `grantRights`: read-only by default; `destructive` and `money` only when
//   `only` names them).
// - `sealed`: a tenant's credential (`{ apiKey, headers? }`), AES-GCM under DOOR_SEAL_KEY; absent,
//   the capability's own credential serves. The object never unseals it: the door does, for the
//   one call it makes a session for (door/mcp.js).
//
// Budgets: calls per minute, and a lower cap for writes, in fixed one-minute windows held in
// memory. A refusal names when the window ends. The object leaves memory only when idle, which
// ends a window early at worst.
import { DurableObject } from "cloudflare:workers";
import { CATALOG } from "./catalog.js";
import { grantRights } from "./rights.js";
import { digest, newToken, sameText, seal, tokenId } from "./crypto.js";

const DAY = 86_400_000;
export const DEFAULT_BUDGET = { perMinute: 60, writesPerMinute: 10 };
const MAX_TTL_DAYS = 366;

/** Why a grant request is refused, as text for whoever issues it. */
class GrantError extends Error {}

/** A grant request (`npm run grant`, the admin route) checked and normalised. */
export function normalise(request) {
  if (!request || typeof request !== "object") throw new GrantError("a grant is an object { capabilities, ttlDays?, budget?, label? }");
  const caps = request.capabilities;
  if (!caps || typeof caps !== "object" || Object.keys(caps).length === 0) throw new GrantError("a grant names at least one capability: { capabilities: { stripe: { rights? , auth? } } }");
  const capabilities = {};
  for (const [name, given] of Object.entries(caps)) {
    const doc = CATALOG[name];
    if (!doc) throw new GrantError(`no capability "${name}" in this door (it serves ${Object.keys(CATALOG).join(", ")})`);
    const g = given ?? {};
    for (const key of Object.keys(g)) if (key !== "rights" && key !== "auth") throw new GrantError(`capabilities.${name} holds "${key}": only rights and auth`);
    if (g.auth !== undefined && g.auth !== null && (typeof g.auth !== "object" || typeof g.auth.apiKey !== "string")) throw new GrantError(`capabilities.${name}.auth is { apiKey, headers? }`);
    capabilities[name] = { rights: grantRights(doc, g.rights ?? {}), auth: g.auth ?? null };
  }
  const ttlDays = request.ttlDays ?? 30;
  if (typeof ttlDays !== "number" || !(ttlDays > 0) || ttlDays > MAX_TTL_DAYS) throw new GrantError(`ttlDays is a number of days, more than 0 and at most ${MAX_TTL_DAYS}`);
  const budget = { ...DEFAULT_BUDGET, ...(request.budget ?? {}) };
  for (const k of ["perMinute", "writesPerMinute"]) if (!Number.isInteger(budget[k]) || budget[k] < 0) throw new GrantError(`budget.${k} is a whole number`);
  return { label: String(request.label ?? ""), capabilities, ttlMs: ttlDays * DAY, budget };
}

export class DoorGrants extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.windows = new Map();
  }

  /** Issues a grant: `{ token, id, expiresAt }` (the token is never seen again), or `{ error }`. */
  async issue(request) {
    if (!this.env.DOOR_TOKEN_KEY || !this.env.DOOR_SEAL_KEY) return { error: "the door has no DOOR_TOKEN_KEY or DOOR_SEAL_KEY secret" };
    let grant;
    try {
      grant = normalise(request);
    } catch (e) {
      if (e instanceof GrantError) return { error: e.message };
      throw e;
    }
    const { id, token } = newToken();
    const capabilities = {};
    for (const [name, { rights, auth }] of Object.entries(grant.capabilities)) {
      capabilities[name] = { rights, ...(auth ? { sealed: await seal(this.env.DOOR_SEAL_KEY, id, name, auth) } : {}) };
    }
    const expiresAt = Date.now() + grant.ttlMs;
    await this.ctx.storage.put(`grant:${id}`, { id, digest: await digest(this.env.DOOR_TOKEN_KEY, token), label: grant.label, expiresAt, budget: grant.budget, capabilities });
    return { token, id, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** Revokes grant `id`: whether there was one. */
  async revoke(id) {
    return this.ctx.storage.delete(`grant:${String(id)}`);
  }

  /** The grants, without digests or credentials. */
  async list() {
    const all = await this.ctx.storage.list({ prefix: "grant:" });
    return [...all.values()].map((g) => ({ id: g.id, label: g.label, expiresAt: new Date(g.expiresAt).toISOString(), capabilities: Object.fromEntries(Object.entries(g.capabilities).map(([c, v]) => [c, { rights: v.rights, tenant: !!v.sealed }])) }));
  }

  /** The grant `token` opens (without its digest), or null: no such token, revoked, expired. */
  async authorize(token) {
    const id = tokenId(token);
    if (!id || !this.env.DOOR_TOKEN_KEY) return null;
    const grant = await this.ctx.storage.get(`grant:${id}`);
    if (!grant) return null;
    if (!sameText(grant.digest, await digest(this.env.DOOR_TOKEN_KEY, token))) return null;
    if (Date.now() >= grant.expiresAt) return null;
    const { digest: _, ...rest } = grant;
    return rest;
  }

  /** Spends one call of grant `id`'s budget (`write`: also one of its writes): `{ ok }`, or
   * `{ ok: false, retryAfterMs, which }` when that budget is spent for this minute. */
  async spend(id, write) {
    const grant = await this.ctx.storage.get(`grant:${String(id)}`);
    if (!grant) return { ok: false, retryAfterMs: 0, which: "revoked" };
    const now = Date.now();
    const window = Math.floor(now / 60_000);
    let w = this.windows.get(id);
    if (!w || w.window !== window) this.windows.set(id, (w = { window, calls: 0, writes: 0 }));
    const retryAfterMs = (window + 1) * 60_000 - now;
    if (w.calls >= grant.budget.perMinute) return { ok: false, retryAfterMs, which: `${grant.budget.perMinute} calls a minute` };
    if (write && w.writes >= grant.budget.writesPerMinute) return { ok: false, retryAfterMs, which: `${grant.budget.writesPerMinute} writes a minute` };
    w.calls++;
    if (write) w.writes++;
    return { ok: true };
  }
}

/** The door's grants object. */
export function grantsOf(env) {
  return env.DOOR_GRANTS.get(env.DOOR_GRANTS.idFromName("grants"));
}
