// A caller Worker typed against the Twitch capability (see tests/types/stripe.ts).
import type { TwitchCapability } from "../../generated/twitch/index";

interface Env {
  TWITCH: Service<TwitchCapability>;
}

export async function titles(env: Env, tenant: { token: string; clientId: string }): Promise<string[]> {
  const r = await env.TWITCH.channels.list({ broadcaster_id: ["141981764"] }, { auth: { apiKey: tenant.token, headers: { "Client-Id": tenant.clientId } } });
  if (!r.ok) return [r.error.message];
  // @ts-expect-error broadcaster_id is a list of ids
  await env.TWITCH.channels.list({ broadcaster_id: 141981764 });
  // A body field its schema requires is required, though the body itself may be left out.
  await env.TWITCH.chat.messages.create({ broadcaster_id: "1", sender_id: "2", message: "hi" });
  // @ts-expect-error message is required whenever a body is sent
  await env.TWITCH.chat.messages.create({ broadcaster_id: "1", sender_id: "2" });
  return r.result.data.map((c) => c.title);
}
