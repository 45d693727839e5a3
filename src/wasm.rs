//! The wasm exports the generated JS entry calls, and nothing else.
//!
//! worker-build puts every `#[wasm_bindgen]` export on its `WorkerEntrypoint` class, which would
//! make each one an RPC method any caller could invoke, handing in its own `env`. The generated
//! entry (`generated/<provider>/entry.js`) therefore takes these functions off that class before
//! anything can call it, and calls them only from the generated resource methods, with the
//! Worker's own `this.env`. `tests/surface.test.mjs` checks no export is reachable over RPC.
//!
//! # The wire between Rust and the entry
//!
//! Arguments cross as one JSON string (`JSON.stringify(args)`: one copy into wasm, one parse).
//! Every export returns a string whose first character says what it is:
//!
//! - `F<handle>:<request JSON>`: fetch this (`{url, method, headers, body?}`, `redirect: "manual"`),
//!   then report the response to [`capa_finish`] (or a network failure to [`capa_unreachable`]).
//! - `{...}`: the finished envelope.
//! - `J{...}` / `T{...}`: the envelope without `result`; the entry adds the response body it
//!   holds, parsed as JSON (`J`) or as text (`T`). Only when the body holds no credential.
//!
//! Calls in flight live in a slab keyed by handle. A panic aborts the wasm instance, which
//! workers-rs then replaces; the entry answers that call with [`capa_internal`], and calls whose
//! handles died with the old instance get `internal` from [`capa_finish`].

use crate::call::{self, Bindings, Call, Step};
use crate::provider::PROVIDER;
use crate::receipt::Envelope;
use crate::response::HttpResponse;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

/// The Worker's `env`, read through `Reflect.get`: secrets and vars are plain strings on it.
struct EnvBindings(worker::Env);

impl Bindings for EnvBindings {
    fn get(&self, name: &str) -> Option<String> {
        js_sys::Reflect::get(self.0.as_ref(), &JsValue::from_str(name)).ok()?.as_string()
    }
}

/// Calls waiting for their upstream response.
struct Slab {
    calls: Vec<Option<(Call, f64)>>,
    free: Vec<u32>,
}

/// A call whose response never came back (its request was cancelled mid-fetch) is dropped after
/// this long, so abandoned calls cannot pile up in a long-lived isolate.
const ABANDONED_MS: f64 = 15.0 * 60.0 * 1000.0;

thread_local! {
    static CALLS: RefCell<Slab> = const { RefCell::new(Slab { calls: Vec::new(), free: Vec::new() }) };
}

impl Slab {
    fn insert(&mut self, call: Call, now: f64) -> u32 {
        if self.free.is_empty() && self.calls.len() % 256 == 255 {
            self.sweep(now);
        }
        match self.free.pop() {
            Some(i) => {
                self.calls[i as usize] = Some((call, now));
                i
            }
            None => {
                self.calls.push(Some((call, now)));
                (self.calls.len() - 1) as u32
            }
        }
    }

    fn take(&mut self, handle: u32) -> Option<Call> {
        let call = self.calls.get_mut(handle as usize)?.take()?.0;
        self.free.push(handle);
        Some(call)
    }

    fn sweep(&mut self, now: f64) {
        for (i, slot) in self.calls.iter_mut().enumerate() {
            if slot.as_ref().is_some_and(|(_, at)| now - at > ABANDONED_MS) {
                *slot = None;
                self.free.push(i as u32);
            }
        }
    }
}

fn now() -> f64 {
    js_sys::Date::now()
}

fn wire(step: Step, now: f64) -> String {
    match step {
        Step::Fetch(call) => {
            let request = call.request().to_fetch_json();
            let handle = CALLS.with(|c| c.borrow_mut().insert(call, now));
            format!("F{handle}:{request}")
        }
        Step::Done(Envelope::Complete(envelope)) => envelope,
        Step::Done(Envelope::AttachBody { json, envelope }) => {
            let mut out = String::with_capacity(envelope.len() + 1);
            out.push(if json { 'J' } else { 'T' });
            out.push_str(&envelope);
            out
        }
    }
}

/// Starts a call of operation `op` with `args`, the JSON text of the argument array.
#[wasm_bindgen]
pub fn capa_begin(op: u32, args: &str, env: worker::Env) -> String {
    let now = now();
    wire(call::begin(&PROVIDER, op, args, &EnvBindings(env), now), now)
}

/// The upstream answered the call `handle`.
#[wasm_bindgen]
pub fn capa_finish(
    handle: u32,
    op: u32,
    status: u16,
    content_type: Option<String>,
    request_id: Option<String>,
    location: Option<String>,
    body: &str,
) -> String {
    let now = now();
    let Some(call) = CALLS.with(|c| c.borrow_mut().take(handle)) else {
        return call::internal(&PROVIDER, op, now);
    };
    let response = HttpResponse {
        status,
        content_type: content_type.as_deref(),
        request_id: request_id.as_deref(),
        location: location.as_deref(),
        body,
    };
    wire(call.finish(&response, now), now)
}

/// `fetch` failed for the call `handle`; `message` is the runtime's error message.
#[wasm_bindgen]
pub fn capa_unreachable(handle: u32, op: u32, message: &str) -> String {
    let now = now();
    match CALLS.with(|c| c.borrow_mut().take(handle)) {
        Some(call) => wire(Step::Done(call.unreachable(message, now)), now),
        None => call::internal(&PROVIDER, op, now),
    }
}

/// The envelope for a call that hit a fault in the runtime (the panic itself is in the log).
#[wasm_bindgen]
pub fn capa_internal(op: u32) -> String {
    call::internal(&PROVIDER, op, now())
}
