//! Credentials kept in a Secrets Store, read through its binding and cached per isolate.
//!
//! A handle (the Worker secret `STRIPE_API_KEY`, a basic pair's user name) is read from the
//! Worker's `env` under its name. When wrangler binds a Secrets Store secret there instead of a
//! Worker secret —
//!
//! ```toml
//! [[env.stripe.secrets_store_secrets]]
//! binding = "STRIPE_API_KEY"
//! store_id = "<store id>"
//! secret_name = "stripe-live-key"
//! ```
//!
//! — the value is behind an async `get()`, which only the JS entry can await. So the runtime keeps
//! a [`Store`] of such handles: when a call begins and a handle's value is missing or older than
//! the TTL, the runtime answers `S[names]` instead of starting the call; the entry awaits each
//! `env[name].get()`, hands the values back ([`Store::put`], `capa_store` in
//! `src/wasm/mod.rs`), and begins the call again. Values are cached for
//! `CAPA_SECRETS_STORE_TTL` seconds (a var; default 60, at most 3600, 0 reads the store on
//! every call): a rotated secret reaches calls within that
//! time, and a call in between costs nothing. A handle whose `get()` fails (no such secret, no
//! access) holds no value: calls needing it are `missing_credential` naming the binding.
//!
//! Which handles are store-backed is the wrangler config's choice, read from what `env` holds:
//! the table does not change, and a deployment can move a credential between a Worker secret and
//! the store without a rebuild.

/// The var setting the cache's lifetime, in whole seconds.
pub const TTL_VAR: &str = "CAPA_SECRETS_STORE_TTL";

/// Seconds a value is kept when [`TTL_VAR`] is unset.
pub const DEFAULT_TTL_SECONDS: f64 = 60.0;

/// The longest [`TTL_VAR`] may set.
pub const MAX_TTL_SECONDS: f64 = 3600.0;

/// The store-backed handles of one `env`, and what was read of them.
#[derive(Debug, Default)]
pub struct Store {
    handles: Vec<Handle>,
    ttl_ms: f64,
}

#[derive(Debug)]
struct Handle {
    name: &'static str,
    value: Option<String>,
    /// When the value was read (ms since the epoch); `None`: never.
    read_ms: Option<f64>,
}

impl Store {
    /// A store for `names`, cached as `ttl` (the [`TTL_VAR`] value, if set) says.
    pub fn new(names: Vec<&'static str>, ttl: Option<&str>) -> Self {
        // Whole seconds: parsing a float would bring core's float parser into the bundle.
        let seconds = ttl.and_then(|t| t.trim().parse::<u32>().ok()).map(f64::from).filter(|s| *s <= MAX_TTL_SECONDS).unwrap_or(DEFAULT_TTL_SECONDS);
        Store { handles: names.into_iter().map(|name| Handle { name, value: None, read_ms: None }).collect(), ttl_ms: seconds * 1000.0 }
    }

    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// Whether `name` is store-backed.
    pub fn holds(&self, name: &str) -> bool {
        self.handles.iter().any(|h| h.name == name)
    }

    /// The handles to read before a call at `now`: never read, or read longer ago than the TTL.
    /// A value read at this very instant is fresh even with a TTL of 0: the call that read it
    /// begins again at the time of the read (workerd's clock moves only across I/O).
    pub fn stale(&self, now: f64) -> Vec<&'static str> {
        self.handles.iter().filter(|h| h.read_ms.is_none_or(|at| now - at > self.ttl_ms || now < at)).map(|h| h.name).collect()
    }

    /// What the entry read of `name` at `now` (`None`: its `get()` failed). Returns whether the
    /// value changed.
    pub fn put(&mut self, name: &str, value: Option<String>, now: f64) -> bool {
        let Some(handle) = self.handles.iter_mut().find(|h| h.name == name) else { return false };
        let changed = handle.value != value;
        handle.value = value;
        handle.read_ms = Some(now);
        changed
    }

    /// The value last read of `name`.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.handles.iter().find(|h| h.name == name)?.value.as_deref()
    }

    /// `S` and the JSON array of the handles to read, when there are any: the runtime's answer
    /// to a call that must wait for them.
    pub fn request(&self, now: f64) -> Option<String> {
        let stale = self.stale(now);
        if stale.is_empty() {
            return None;
        }
        let mut out = String::from("S[");
        for (i, name) in stale.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            crate::json::push_str(&mut out, name);
        }
        out.push(']');
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_once_per_ttl() {
        let mut store = Store::new(vec!["STRIPE_API_KEY", "SID"], None);
        assert_eq!(store.request(1000.0).as_deref(), Some(r#"S["STRIPE_API_KEY","SID"]"#));
        assert!(store.put("STRIPE_API_KEY", Some("sk_1".into()), 1000.0));
        store.put("SID", None, 1000.0);
        assert_eq!(store.request(1000.0 + 59_999.0), None, "fresh within 60 s");
        assert_eq!(store.value("STRIPE_API_KEY"), Some("sk_1"));
        assert_eq!(store.value("SID"), None, "a failed get holds no value");
        assert!(store.stale(1000.0 + 60_000.0).is_empty(), "60 s exactly is still fresh");
        assert_eq!(store.stale(1000.0 + 60_001.0), ["STRIPE_API_KEY", "SID"]);
        assert!(!store.put("STRIPE_API_KEY", Some("sk_1".into()), 61_000.0), "unchanged");
        assert!(!store.put("OTHER", Some("x".into()), 0.0), "not a store handle");
        // A clock that went back reads again rather than trusting the value for ever.
        assert_eq!(store.stale(500.0), ["STRIPE_API_KEY", "SID"]);
    }

    #[test]
    fn the_ttl_var_is_seconds_within_bounds() {
        let ttl = |v: Option<&str>| Store::new(vec![], v).ttl_ms;
        assert_eq!(ttl(None), 60_000.0);
        assert_eq!(ttl(Some("0")), 0.0);
        assert_eq!(ttl(Some(" 5 ")), 5_000.0);
        assert_eq!(ttl(Some("3601")), 60_000.0);
        assert_eq!(ttl(Some("-1")), 60_000.0);
        assert_eq!(ttl(Some("soon")), 60_000.0);
        assert_eq!(ttl(Some("1.5")), 60_000.0, "whole seconds");
        let mut store = Store::new(vec!["K"], Some("0"));
        store.put("K", Some("v".into()), 5.0);
        assert!(store.stale(5.0).is_empty(), "the call that read it uses it");
        assert_eq!(store.stale(6.0), ["K"], "0 reads on every later call");
    }
}
