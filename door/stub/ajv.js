// Ajv is not bundled in the door: it compiles validators to code at run time, which Workers
// forbid. The SDK's server imports it for its default validator; the door always passes the
// Workers-safe one (CfWorkerJsonSchemaValidator), so this stand-in is never constructed
// (wrangler.toml's [env.mcp.alias] puts it in place of `ajv` and `ajv-formats`).
export default class Ajv {
  constructor() {
    throw new Error("Ajv is not bundled in the door (it compiles code at run time); pass CfWorkerJsonSchemaValidator");
  }
}
export function addFormats() {}
