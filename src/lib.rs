//! capa-rs: an OpenAPI spec made into a capability Worker.
//!
//! A caller Worker holds a service binding to this Worker and calls generated methods over RPC
//! (`env.STRIPE.customers.retrieve("cus_1")`). It gets the *ability* to call the provider's API —
//! exactly the operations the spec declares — and never the credential, which stays in a Worker
//! secret (or arrives per call and goes no further than the upstream request).
//!
//! # Layout
//!
//! - [`table`]: the operation table the generator emits for one provider, as static data.
//! - [`args`], [`request`], [`encode`], [`body`]: from positional arguments to an upstream
//!   request (bodies that are not one string, binary and multipart, in [`body`]).
//! - [`http`]: the request the entry is handed to `fetch`, and what it reports of the answer.
//! - [`response`], [`receipt`], [`error`], [`json`], [`parse`], [`value`]: from the upstream's
//!   answer to an envelope, and JSON read and written by hand (numbers keep their text).
//! - [`media`], [`origin`]: media types, and the origins a credential is bound to.
//! - [`auth`], [`store`]: how each scheme puts the credential on the wire; credentials read
//!   from a Secrets Store.
//! - [`token`]: tokens a scheme obtains with the deployment's credentials, and their lifecycle.
//! - [`secret`], [`redact`], [`views`], [`forms`], [`header`], [`pem`]: credentials that cannot
//!   print, their redaction from every view a caller can decode, base64 for the wire, what a
//!   header may carry, private keys.
//! - [`call`]: the call as a state machine with no I/O, driven by the JS entry.
//! - [`rights`], [`grant`]: which operations a caller may invoke (the deployment's vars;
//!   classes), and what a caller holds (its binding's props, sessions).
//! - `wasm` (wasm32 only): the exports the generated JS entry calls.
//!
//! Everything but `wasm` is plain Rust, tested natively with `cargo test`.
//!
//! The modules stand in layers, each using only its own and those below, with no cycle:
//! `tests/layers.rs` lists them, lowest first, and fails on a use that reaches up.
//!
//! # Which provider
//!
//! One build is one provider: `build.rs` includes `generated/<CAPA_PROVIDER>/operations.rs`
//! (default `stripe`). wrangler.toml's `[env.<provider>]` build commands set it.

pub mod args;
pub mod auth;
pub mod body;
pub mod budget;
pub mod call;
pub mod creds;
pub mod encode;
pub mod error;
pub mod forms;
pub mod grant;
pub mod header;
pub mod http;
pub mod json;
pub mod media;
pub mod origin;
pub mod pages;
pub mod parse;
pub mod pem;
pub mod receipt;
pub mod redact;
pub mod request;
pub mod response;
pub mod retry;
pub mod rights;
pub mod secret;
pub mod soft;
pub mod store;
pub mod table;
pub mod token;
pub mod value;
pub mod views;

#[cfg(target_arch = "wasm32")]
mod wasm;

/// The provider this build serves, emitted by `capa-gen build <provider>`: the table of this
/// checkout, by a path relative to this file (build.rs says why not an absolute one).
pub mod provider {
    include!(concat!("../generated/", env!("CAPA_TABLE_PROVIDER"), "/operations.rs"));
}
