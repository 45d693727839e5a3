//! Calls waiting for their upstream response, by handle: the slab the `F` step's handle names,
//! each call kept with the entry's ticket it was issued with (see the parent module's docs: a
//! handle is honoured only with its ticket, so no call of a dead instance is answered with
//! another's).

use crate::call::Call;
use std::cell::RefCell;

/// Calls waiting for their upstream response.
pub(super) struct Slab {
    calls: Vec<Option<(f64, Call)>>,
    free: Vec<u32>,
}

/// A call whose response never came back (its request was cancelled mid-fetch) is dropped after
/// this long, so abandoned calls cannot pile up in a long-lived isolate.
const ABANDONED_MS: f64 = 15.0 * 60.0 * 1000.0;

thread_local! {
    pub(super) static CALLS: RefCell<Slab> = const { RefCell::new(Slab { calls: Vec::new(), free: Vec::new() }) };
}

impl Slab {
    pub(super) fn insert(&mut self, ticket: f64, call: Call, now: f64) -> u32 {
        if self.free.is_empty() && self.calls.len() % 256 == 255 {
            self.sweep(now);
        }
        match self.free.pop() {
            Some(i) => {
                self.calls[i as usize] = Some((ticket, call));
                i
            }
            None => {
                self.calls.push(Some((ticket, call)));
                (self.calls.len() - 1) as u32
            }
        }
    }

    pub(super) fn get(&self, handle: u32) -> Option<&Call> {
        self.calls.get(handle as usize)?.as_ref().map(|(_, call)| call)
    }

    /// The call `handle` names, if it was issued with `ticket`.
    pub(super) fn take(&mut self, handle: u32, ticket: f64) -> Option<Call> {
        let slot = self.calls.get_mut(handle as usize)?;
        if slot.as_ref()?.0 != ticket {
            return None;
        }
        let (_, call) = slot.take()?;
        self.free.push(handle);
        Some(call)
    }

    fn sweep(&mut self, now: f64) {
        for (i, slot) in self.calls.iter_mut().enumerate() {
            if slot.as_ref().is_some_and(|(_, call)| now - call.started_ms() > ABANDONED_MS) {
                *slot = None;
                self.free.push(i as u32);
            }
        }
    }
}
