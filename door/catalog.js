// The capabilities this door can serve: each one's documents (generated/<p>/door.json, emitted
// by the generator: names, classes, summaries, signatures, parameters), bundled with the door.
// A capability is offered when the door's Worker has its service binding (the document's
// `binding`: STRIPE, GITHUB) and a grant names it. To serve another provider, add its line.
import stripe from "../generated/stripe/door.json";
import github from "../generated/github/door.json";

export const CATALOG = Object.fromEntries([stripe, github].map((doc) => [doc.capability, doc]));

const BY_NAME = new WeakMap();
/** `doc`'s operations by name. */
export function operations(doc) {
  let m = BY_NAME.get(doc);
  if (!m) BY_NAME.set(doc, (m = new Map(doc.operations.map((op) => [op.name, op]))));
  return m;
}
