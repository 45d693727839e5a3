// A caller Worker typed against the Petstore capability (see tests/types/stripe.ts).
import type { PetstoreCapability, Pet } from "../../generated/petstore/index";

interface Env {
  PETSTORE: Service<PetstoreCapability>;
}

export async function sold(env: Env): Promise<string[]> {
  const r = await env.PETSTORE.pet.findByStatus({ status: "sold" });
  const pets: Pet[] = r.ok ? r.result : [];
  // @ts-expect-error status is one of available, pending, sold
  await env.PETSTORE.pet.findByStatus({ status: "lost" });
  const one = await env.PETSTORE.pet.retrieve(7);
  if (one.ok) one.result.photoUrls satisfies string[];
  const image = await env.PETSTORE.pet.uploadImage(7, { body: new Uint8Array([137, 80, 78, 71]) });
  if (image.ok) image.result.code satisfies number | undefined;
  return pets.map((p) => p.name);
}
