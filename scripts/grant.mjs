#!/usr/bin/env node
// `npm run grant -- …`: issue, list and revoke the MCP door's grants through its admin route
// (docs/door.md, "Issuing and revoking"). The token is printed once, on stdout; nothing keeps it.
//
//   npm run grant -- stripe                                  read-only Stripe, 30 days
//   npm run grant -- stripe:'{"only":["customers.*"],"readOnly":false}' github --ttl-days 1
//   npm run grant -- stripe --tenant-key-env TENANT_KEY      a tenant's key, read from $TENANT_KEY
//   npm run grant -- stripe --per-minute 30 --writes-per-minute 5 --label "support bot"
//   npm run grant -- list
//   npm run grant -- revoke <id>
//
// The door: --url (default $DOOR_URL, else `npm start`'s http://127.0.0.1:8788). The admin
// secret: $DOOR_ADMIN_SECRET, else door/.dev.vars.stripe's (what `npm start` wrote). A tenant's
// key is read from the environment variable named, never from the command line (which shells
// keep in their history).
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const flag = (name) => {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const [, value] = argv.splice(i, 2);
  if (value === undefined) fail(`--${name} takes a value`);
  return value;
};
function fail(message) {
  console.error(`grant: ${message}`);
  process.exit(2);
}

const url = (flag("url") ?? process.env.DOOR_URL ?? "http://127.0.0.1:8788").replace(/\/$/, "");
const ttlDays = flag("ttl-days");
const perMinute = flag("per-minute");
const writesPerMinute = flag("writes-per-minute");
const label = flag("label");
const tenantEnv = flag("tenant-key-env");
const accountEnv = flag("tenant-account-env");

function adminSecret() {
  if (process.env.DOOR_ADMIN_SECRET) return process.env.DOOR_ADMIN_SECRET;
  try {
    const line = readFileSync(path.join(ROOT, "door", ".dev.vars.stripe"), "utf8").split("\n").find((l) => l.startsWith("DOOR_ADMIN_SECRET="));
    if (line) return line.slice("DOOR_ADMIN_SECRET=".length).trim();
  } catch {}
  fail("no admin secret: set DOOR_ADMIN_SECRET (the door's Worker secret of that name), or run `npm start` first");
}

async function admin(method, p, body) {
  const res = await fetch(`${url}/admin/grants${p}`, { method, headers: { authorization: `Bearer ${adminSecret()}`, "content-type": "application/json" }, body: body && JSON.stringify(body) }).catch((e) => fail(`${url}: ${e.cause?.code ?? e.message}`));
  const out = await res.json().catch(() => null);
  if (res.status === 404) fail(`${url} answered 404: no door there, or the admin secret is not its DOOR_ADMIN_SECRET`);
  if (!res.ok) fail(out?.error ?? `${res.status}`);
  return out;
}

const [command, ...rest] = argv;
if (!command || command === "help" || command === "--help") {
  console.error(readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n").filter((l) => l.startsWith("//")).map((l) => l.slice(3)).join("\n"));
  process.exit(command ? 0 : 2);
} else if (command === "list") {
  console.log(JSON.stringify(await admin("GET", ""), null, 2));
} else if (command === "revoke") {
  if (!rest[0]) fail("revoke takes the grant's id (npm run grant -- list)");
  const out = await admin("DELETE", `/${encodeURIComponent(rest[0])}`);
  console.error(out.revoked ? `revoked ${rest[0]}` : `no grant ${rest[0]}`);
  process.exit(out.revoked ? 0 : 1);
} else {
  const capabilities = {};
  for (const arg of [command, ...rest]) {
    const colon = arg.indexOf(":");
    const name = colon < 0 ? arg : arg.slice(0, colon);
    let rights = {};
    if (colon >= 0) {
      try {
        rights = JSON.parse(arg.slice(colon + 1));
      } catch {
        fail(`${name}'s rights are JSON: ${name}:'{"only":["customers.*"]}'`);
      }
    }
    capabilities[name] = { rights };
  }
  if (tenantEnv) {
    const apiKey = process.env[tenantEnv];
    if (!apiKey) fail(`$${tenantEnv} is empty`);
    const headers = accountEnv ? { "Stripe-Account": process.env[accountEnv] } : undefined;
    for (const c of Object.values(capabilities)) c.auth = { apiKey, ...(headers ? { headers } : {}) };
  }
  const budget = {};
  if (perMinute !== undefined) budget.perMinute = Number(perMinute);
  if (writesPerMinute !== undefined) budget.writesPerMinute = Number(writesPerMinute);
  const out = await admin("POST", "", { capabilities, ...(ttlDays !== undefined ? { ttlDays: Number(ttlDays) } : {}), ...(Object.keys(budget).length ? { budget } : {}), ...(label ? { label } : {}) });
  console.error(`grant ${out.id}, expires ${out.expiresAt}; the token below is shown once:`);
  console.log(out.token);
}
