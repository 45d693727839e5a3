//! Stage 4, emit: the files a provider's Worker is built from.
//!
//! - `operations.rs`: the static operation table the Rust runtime includes (`src/table.rs`).
//! - `entry.js`: the Worker's main module, a `WorkerEntrypoint` with a getter per resource.
//! - `index.d.ts`: the RPC surface for callers, in TypeScript.
//! - `methods.txt`: the method table, one line per operation (also `capa-gen methods`).
//! - `door.json`: the documents the MCP door indexes and serves (`door/`), one per operation.
//! - `capa-gen table`: the same table as JSON, printed for tests, not written.
//!
//! Output is deterministic: sorted inputs, no timestamps, no absolute paths.

pub mod door;
pub mod js;
pub mod methods;
pub mod rust;
pub mod table;
pub mod tree;
pub mod ts;
pub mod types;
