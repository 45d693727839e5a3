//! The Worker's bindings as the runtime reads them: once per `env` object, kept for the calls
//! after it ([`EnvBindings`]), with the isolate's tokens, its Secrets Store values and its
//! rights. What the exports do with them is the parent module's; what a binding *means* (a
//! credential's handle, a rights var) is [`crate::auth`]'s, [`crate::store`]'s and
//! [`crate::rights`]'s.

use crate::auth::WorkerSecrets;
use crate::call::{self, Bindings};
use crate::provider::PROVIDER;
use crate::table::Provider;
use crate::token::Tokens;
#[cfg(capa_tokens)]
use js_sys::JsString;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// The bindings the runtime reads, read once per `env` object. workerd hands every call of an
/// isolate the same `env`, so the entry passes it only when it differs from the one it passed
/// last (see [`super::capa_begin`]): a call costs nothing here instead of three `Reflect.get`s and
/// string copies across the wasm boundary. The deployment's credentials are kept prepared
/// ([`WorkerSecrets`]: their wire values and redaction needles), so a call that sends one copies
/// nothing.
pub(super) struct EnvBindings {
    values: Vec<(&'static str, Option<String>)>,
    pub(super) secrets: Rc<WorkerSecrets>,
    /// Credential handles bound to Secrets Store secrets, and their values as last read.
    pub(super) store: crate::store::Store,
    /// The isolate's access tokens: kept across a new `env` (the same Worker's), lost with the
    /// instance.
    pub(super) tokens: Tokens,
    /// What the deployment's vars let callers invoke ([`crate::rights`]).
    rights: crate::rights::Deployment,
    /// Whether they are shared through the `CAPA_TOKENS` Durable Object.
    #[cfg(capa_tokens)]
    sharing: crate::token::shared::Sharing,
    /// The call budget's binding ([`crate::budget`]): `Some(keyed)` when bound.
    budget: Option<bool>,
}

impl EnvBindings {
    pub(super) fn read(env: worker::Env, tokens: Tokens) -> Self {
        let raw = |name: &str| js_sys::Reflect::get(env.as_ref(), &JsValue::from_str(name)).ok();
        let names = crate::auth::handles(&PROVIDER)
            .chain([call::ORIGIN_OVERRIDE_VAR, call::FAULT_VAR, call::WAIT_SCALE_VAR, call::ATTEMPT_MS_VAR, call::BODY_LIMIT_VAR, crate::store::TTL_VAR])
            .chain(PROVIDER.bound_headers.iter().map(|(_, b)| *b));
        let mut store_names = Vec::new();
        let mut values: Vec<(&'static str, Option<String>)> = Vec::new();
        for name in names {
            if values.iter().any(|(n, _)| *n == name) {
                continue;
            }
            let value = raw(name);
            // A Secrets Store binding: an object whose `get()` the entry awaits.
            let credential = crate::auth::handles(&PROVIDER).any(|h| h == name);
            if credential && value.as_ref().is_some_and(|v| v.is_object() && js_sys::Reflect::get(v, &JsValue::from_str("get")).is_ok_and(|g| g.is_function())) {
                store_names.push(name);
            }
            values.push((name, value.and_then(|v| v.as_string())));
        }
        let ttl = values.iter().find(|(n, _)| *n == crate::store::TTL_VAR).and_then(|(_, v)| v.clone());
        let secrets = Rc::new(WorkerSecrets::new(&PROVIDER, |n| values.iter().find(|(k, _)| *k == n).and_then(|(_, v)| v.as_deref())));
        #[cfg(capa_tokens)]
        let var = |name: &str| raw(name).and_then(|v| v.as_string());
        #[cfg(capa_tokens)]
        let sharing = {
            use crate::token::shared::{Sharing, BINDING, KEY_VAR};
            let bound = raw(BINDING).is_some_and(|v| v.is_object() && js_sys::Reflect::get(&v, &JsValue::from_str("idFromName")).is_ok_and(|f| f.is_function()));
            Sharing::read(bound, var(KEY_VAR).as_deref())
        };
        // A rights var as text: a string as it is, a boolean (`CAPA_READ_ONLY = true` in TOML) as
        // its word, any other value (an array) as its JSON, which names nothing and so refuses
        // every call: a var set in a shape not read must not leave the Worker open.
        let rights_var = |name: &str| {
            let v = raw(name).filter(|v| !v.is_undefined() && !v.is_null())?;
            v.as_string()
                .or_else(|| v.as_bool().map(|b| b.to_string()))
                .or_else(|| Some(js_sys::JSON::stringify(&v).ok().map_or_else(|| String::from("?"), String::from)))
        };
        let rights = crate::rights::Deployment::read(
            &PROVIDER,
            rights_var(crate::rights::ONLY_VAR).as_deref(),
            rights_var(crate::rights::EXCEPT_VAR).as_deref(),
            rights_var(crate::rights::READ_ONLY_VAR).as_deref(),
        );
        // A Rate Limiting binding: an object with `limit()`.
        let budget = raw(crate::budget::BINDING)
            .is_some_and(|v| v.is_object() && js_sys::Reflect::get(&v, &JsValue::from_str("limit")).is_ok_and(|f| f.is_function()))
            .then(|| raw(crate::budget::KEY_VAR).and_then(|v| v.as_string()).is_some_and(|k| !k.is_empty()));
        EnvBindings {
            values,
            rights,
            budget,
            secrets,
            store: crate::store::Store::new(store_names, ttl.as_deref()),
            tokens,
            #[cfg(capa_tokens)]
            sharing,
        }
    }

    /// The `P` step storing scheme `scheme`'s token in the Durable Object, if shared; else `""`.
    #[cfg(capa_tokens)]
    pub(super) fn share(&self, scheme: u8) -> JsString {
        let (crate::token::shared::Sharing::On(key), Some(record)) = (&self.sharing, self.tokens.record(scheme)) else { return JsString::from("") };
        let mut out = String::with_capacity(record.0.len() * 2 + 128);
        crate::token::shared::push_put(&mut out, scheme, key, &crate::token::shared::aad(&PROVIDER, scheme, &self.secrets), record);
        JsString::from(out.as_str())
    }

    /// A value read from the store: kept, and the prepared secret remade when it changed.
    pub(super) fn put(&mut self, name: &str, value: Option<String>, now: f64) {
        if self.store.put(name, value, now) {
            let fresh = self.store.value(name).map(str::to_owned);
            if let Some((_, slot)) = self.values.iter_mut().find(|(n, _)| *n == name) {
                *slot = fresh;
            }
            let fresh = Rc::new(WorkerSecrets::new(&PROVIDER, |n| self.get(n)));
            let old = std::mem::replace(&mut self.secrets, fresh);
            self.forget_changed(&old);
        }
    }

    /// Forgets the tokens of every scheme whose deployment credentials differ from `old`'s.
    pub(super) fn forget_changed(&self, old: &WorkerSecrets) {
        for i in 0..PROVIDER.schemes.len() as u8 {
            if !self.secrets.same_scheme(old, i) {
                self.tokens.forget(i);
            }
        }
    }
}

impl Bindings for EnvBindings {
    fn get(&self, name: &str) -> Option<&str> {
        self.values.iter().find(|(n, _)| *n == name).and_then(|(_, v)| v.as_deref())
    }

    fn worker_secrets(&self, _: &Provider) -> Rc<WorkerSecrets> {
        Rc::clone(&self.secrets)
    }

    fn in_store(&self, name: &str) -> bool {
        self.store.holds(name)
    }

    fn tokens(&self) -> Option<&Tokens> {
        Some(&self.tokens)
    }

    fn rights(&self) -> &crate::rights::Deployment {
        &self.rights
    }

    fn budget(&self) -> Option<bool> {
        self.budget
    }

    #[cfg(capa_tokens)]
    fn sharing(&self) -> &crate::token::shared::Sharing {
        &self.sharing
    }
}

thread_local! {
    pub(super) static ENV: RefCell<Option<EnvBindings>> = const { RefCell::new(None) };
}
