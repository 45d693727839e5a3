//! One call, robust: when to send a request again, how long to wait first, how long to wait at
//! all — the policy, in one place.
//!
//! A capability sits in front of real, flaky APIs, and its callers (workflow steps, queue
//! consumers, agents) rarely retry well by themselves. So a call retries for them, as the best
//! SDKs do (stripe-node, Octokit, Stainless-generated clients), inside a Worker's limits, and its
//! receipt says exactly what happened: one `tries` entry per request that went out.
//!
//! # What is retried
//!
//! - **Transient failures**: a connection that failed, an attempt that timed out, and the
//!   statuses 408, 429, 500, 502, 503, 504 — and 409 where the manifest says it is transient
//!   (Stripe's, a request racing another with the same idempotency key; GitHub's is a real
//!   conflict). Every other status is final.
//! - **Hints**: `Stripe-Should-Retry` and the generic `x-should-retry` (`true`/`false`) overrule
//!   the status: `false` makes an answer final, `true` retryable even outside the transient set.
//!   Hints never lift the method rule.
//! - **Methods**: GET, HEAD, OPTIONS, PUT and DELETE are idempotent by HTTP's definition and may be
//!   sent again. POST and PATCH only when the provider takes an idempotency key (the manifest's
//!   `idempotency_header`, Stripe's `Idempotency-Key`): then every POST and PATCH carries one,
//!   retries on or off, as stripe-node does — the caller's `idempotencyKey`, else the call's own
//!   `callId` — and every attempt reuses it, so the provider does the work once. Without a key a
//!   POST or PATCH is never sent a second time after any failure: a connection refused before
//!   the request and one reset after it cannot be told apart reliably, and charging twice is
//!   worse than failing once.
//!
//! # How long to wait
//!
//! Backoff is `min(0.5 s · 2^(n−1), 8 s)` before the n-th retry, times a random factor in
//! [0.5, 1] so that callers that failed together do not return together. A `Retry-After`
//! (seconds, or an HTTP date) or `retry-after-ms` replaces it when it is at most
//! [`MAX_HINTED_WAIT_MS`] and fits in what is left of the deadline. A longer one is not waited
//! for: the call answers at once, `rate_limited` for a 429 or a rate wall (`x-ratelimit-remaining:
//! 0` on a 403 or 429, with `x-ratelimit-reset`), else `upstream_error`, carrying `retryAfterMs`
//! so the caller can schedule the retry itself (a queue's delay, a workflow's sleep).
//!
//! # Budgets
//!
//! - Retries: `options.maxRetries`, else the manifest's `max_retries`, else
//!   [`DEFAULT_MAX_RETRIES`]; at most [`MAX_RETRIES`]; 0 turns transient retries off.
//! - The resend after a refused token is not a retry: it belongs to the credential's lifecycle
//!   (`crate::token`), happens at most once, and is not counted against `maxRetries`.
//! - A call never sends more than [`MAX_REQUESTS`] upstream requests, redirects, retries and
//!   the token resend together: well inside Workers' subrequest limit (50 per invocation on the
//!   free plan), so a caller can make several calls in one invocation.
//! - Each attempt may take [`ATTEMPT_MS`]; the call, its attempts and waits together,
//!   `options.timeoutMs` or [`DEFAULT_DEADLINE_MS`], at most [`MAX_DEADLINE_MS`]. Past it the call
//!   ends `upstream_timeout` with its tries. It never hangs: every `fetch` carries the attempt's
//!   signal. A timed-out POST without an idempotency key is not sent again.
//!
//! The entry performs what this decides: it sends each request with the timeout the request
//! names, waits as long as a `Y` step says, and reports each answer's hint headers (read only for
//! statuses that can be retried or walled, so a success reads none).

use crate::table::{Method, Upstream};

/// Retries when neither the call nor the manifest says.
pub const DEFAULT_MAX_RETRIES: u8 = 2;
/// The most retries a call or a manifest may ask for.
pub const MAX_RETRIES: u8 = 5;
/// The most upstream requests one call sends: the first, [`MAX_RETRIES`] retries, the resend
/// after a refused token, and same-origin redirects, together.
pub const MAX_REQUESTS: u32 = 12;
/// How long one attempt may take, answer and body read.
pub const ATTEMPT_MS: u64 = 30_000;
/// How long a call may take when it does not say (`options.timeoutMs`).
pub const DEFAULT_DEADLINE_MS: u64 = 60_000;
/// The longest `options.timeoutMs`.
pub const MAX_DEADLINE_MS: u64 = 300_000;
/// The longest wait a `Retry-After` may ask for and be waited for.
pub const MAX_HINTED_WAIT_MS: u64 = 60_000;
/// The first backoff, and its cap.
const BACKOFF_MS: u64 = 500;
const BACKOFF_CAP_MS: u64 = 8_000;

/// What a call asked of its robustness, and what it defaults to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub max_retries: u8,
    pub deadline_ms: u64,
    /// Whether its POST or PATCH carries an idempotency key (so may be sent again).
    pub keyed: bool,
    pub retry_conflict: bool,
}

impl Policy {
    /// From the call's options (`None`: not given) and the provider's manifest.
    pub fn new(upstream: &Upstream, max_retries: Option<u8>, timeout_ms: Option<u64>, keyed: bool) -> Self {
        Policy {
            max_retries: max_retries.unwrap_or(upstream.max_retries).min(MAX_RETRIES),
            deadline_ms: timeout_ms.unwrap_or(DEFAULT_DEADLINE_MS).min(MAX_DEADLINE_MS),
            keyed,
            retry_conflict: upstream.retry_conflict,
        }
    }
}

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The upstream answered `status`, with these hints.
    Answered { status: u16, hints: Hints },
    /// `fetch` failed: no answer (refused, reset, DNS).
    Unreachable,
    /// The attempt's time ran out.
    TimedOut,
}

/// What an answer's headers say about trying again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hints {
    /// `Stripe-Should-Retry` or `x-should-retry`: `Some(false)` forbids, `Some(true)` allows.
    pub should_retry: Option<bool>,
    /// `retry-after-ms`, or `Retry-After` (seconds or an HTTP date), as ms from the answer.
    pub retry_after_ms: Option<u64>,
    /// A rate wall: `x-ratelimit-remaining: 0`; with `x-ratelimit-reset`, ms until it lifts.
    pub wall: Option<Option<u64>>,
}

impl Hints {
    /// The wait the provider names: `Retry-After` (or `retry-after-ms`), else a rate wall's reset.
    pub fn wait_ms(&self) -> Option<u64> {
        self.retry_after_ms.or(self.wall.flatten())
    }

    /// From the values of `retry-after-ms`, `retry-after`, `stripe-should-retry`,
    /// `x-should-retry`, `x-ratelimit-remaining` and `x-ratelimit-reset` (each `None` when
    /// absent), read at `now_ms`.
    pub fn read(values: [Option<&str>; 6], now_ms: f64) -> Self {
        let [after_ms, after, stripe, generic, remaining, reset] = values;
        let should = |v: &str| match v.trim() {
            t if t.eq_ignore_ascii_case("true") => Some(true),
            t if t.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        };
        let retry_after_ms = after_ms.and_then(decimal).map(|v| v as u64).or_else(|| after.and_then(|v| retry_after(v, now_ms)));
        let wall = remaining.filter(|r| r.trim() == "0").map(|_| {
            // Epoch seconds (GitHub's), or seconds from now when small (some APIs).
            reset.and_then(decimal).map(|r| {
                if r > 1e9 {
                    (r * 1000.0 - now_ms).max(0.0) as u64
                } else {
                    (r * 1000.0) as u64
                }
            })
        });
        Hints { should_retry: stripe.and_then(should).or_else(|| generic.and_then(should)), retry_after_ms, wall }
    }
}

/// A non-negative decimal (`1500`, `0.01`, `1.5`), read by hand: the standard library's float
/// parser costs the bundle ~20 KiB, and a header or a var needs no exponent.
pub fn decimal(text: &str) -> Option<f64> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty() || whole.len() > 15 || !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut value = if whole.is_empty() { 0.0 } else { whole.parse::<u64>().ok()? as f64 };
    let mut scale = 0.1;
    for b in fraction.bytes().take(9) {
        value += f64::from(b - b'0') * scale;
        scale /= 10.0;
    }
    Some(value)
}

/// `Retry-After` as ms from `now_ms`: delay-seconds, or an HTTP date (IMF-fixdate).
fn retry_after(value: &str, now_ms: f64) -> Option<u64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds.saturating_mul(1000));
    }
    let at = http_date_ms(value)?;
    Some((at - now_ms).max(0.0) as u64)
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) as ms since the epoch.
pub fn http_date_ms(value: &str) -> Option<f64> {
    let mut parts = value.split_whitespace();
    let _weekday = parts.next()?;
    let day: i64 = parts.next()?.parse().ok()?;
    let month = parts.next()?;
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].iter().position(|m| *m == month)? as i64 + 1;
    let year: i64 = parts.next()?.parse().ok()?;
    let mut clock = parts.next()?.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, s) = (clock.next()??, clock.next()??, clock.next()??);
    if parts.next()? != "GMT" || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + h * 3600 + m * 60 + s) * 1000) as f64)
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send it again after waiting `wait_ms`.
    Retry { wait_ms: u64 },
    /// The answer stands (a success, a final error, retries spent, or a wait the provider asks
    /// for that a call does not make): it is answered as it is, with its `retryAfterMs` when
    /// the provider named one ([`Hints::wait_ms`]).
    Final,
}

/// Whether a status is transient under `policy`.
fn transient(status: u16, policy: &Policy) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504) || (status == 409 && policy.retry_conflict)
}

/// Whether a request with `method` may be sent again.
pub fn resendable(method: Method, policy: &Policy) -> bool {
    !matches!(method, Method::Post | Method::Patch) || policy.keyed
}

/// Whether an answer of `status` is a rate wall: a 429, or a 403 saying the limit is spent.
pub fn walled(status: u16, hints: &Hints) -> bool {
    status == 429 || (status == 403 && hints.wall.is_some())
}

/// The decision after attempt `ended` of a `method` request, the call having made `retries`
/// retries and `requests` requests so far, with `left_ms` of its deadline left; `random` a
/// number in [0, 1) for this retry's jitter.
pub fn decide(method: Method, ending: Ending, policy: &Policy, retries: u8, requests: u32, left_ms: u64, random: f64) -> Decision {
    let (retryable, hints) = match ending {
        Ending::Answered { status, hints } => {
            if (200..400).contains(&status) {
                return Decision::Final;
            }
            let allowed = hints.should_retry.unwrap_or_else(|| transient(status, policy) || walled(status, &hints));
            (allowed, Some(hints))
        }
        Ending::Unreachable | Ending::TimedOut => (true, None),
    };
    if !retryable || retries >= policy.max_retries || requests >= MAX_REQUESTS || !resendable(method, policy) {
        return Decision::Final;
    }
    // A wait the provider names replaces the backoff; one a call will not make (too long, or
    // past the deadline) ends it at once.
    let wait_ms = match hints.and_then(|h| h.wait_ms()) {
        Some(named) if named > MAX_HINTED_WAIT_MS => return Decision::Final,
        Some(named) => named,
        None => {
            let backoff = (BACKOFF_MS << retries.min(5)).min(BACKOFF_CAP_MS);
            (backoff as f64 * (0.5 + 0.5 * random.clamp(0.0, 1.0))) as u64
        }
    };
    if wait_ms >= left_ms {
        return Decision::Final;
    }
    Decision::Retry { wait_ms }
}

/// A number in [0, 1) for the `n`-th retry of the call whose id is `call_id`: its jitter. Not a
/// secret, only spread: SplitMix64 over the id's bytes and `n`.
pub fn jitter(call_id: &str, n: u8) -> f64 {
    let mut x = call_id.bytes().fold(0x9e37_79b9_7f4a_7c15u64 ^ u64::from(n), |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRIPE: Upstream = Upstream { idempotency_header: Some("Idempotency-Key"), retry_conflict: true, ..Upstream::DEFAULT };

    fn answered(status: u16) -> Ending {
        Ending::Answered { status, hints: Hints::default() }
    }

    #[test]
    fn transient_failures_are_retried_with_backoff_and_final_ones_are_not() {
        let p = Policy::new(&Upstream::DEFAULT, None, None, false);
        for status in [408, 429, 500, 502, 503, 504] {
            let Decision::Retry { wait_ms } = decide(Method::Get, answered(status), &p, 0, 1, 60_000, 0.0) else { panic!("{status}") };
            assert_eq!(wait_ms, 250, "the first backoff, jittered down to half");
        }
        for status in [200, 204, 301, 400, 401, 403, 404, 409, 422] {
            assert_eq!(decide(Method::Get, answered(status), &p, 0, 1, 60_000, 0.5), Decision::Final, "{status}");
        }
        assert!(matches!(decide(Method::Get, Ending::Unreachable, &p, 0, 1, 60_000, 0.99), Decision::Retry { wait_ms: 497 }));
        assert!(matches!(decide(Method::Get, Ending::TimedOut, &p, 1, 2, 60_000, 0.0), Decision::Retry { wait_ms: 500 }));
        // Retries spent; the deadline too near.
        assert_eq!(decide(Method::Get, answered(503), &p, 2, 3, 60_000, 0.0), Decision::Final);
        assert_eq!(decide(Method::Get, answered(503), &p, 0, 1, 200, 0.0), Decision::Final);
        assert_eq!(decide(Method::Get, answered(503), &Policy::new(&Upstream::DEFAULT, Some(0), None, false), 0, 1, 60_000, 0.0), Decision::Final);
        // The cap across redirects and the token resend.
        assert_eq!(decide(Method::Get, answered(503), &Policy::new(&Upstream::DEFAULT, Some(5), None, false), 1, MAX_REQUESTS, 60_000, 0.0), Decision::Final);
    }

    #[test]
    fn backoff_doubles_to_its_cap() {
        let p = Policy::new(&Upstream::DEFAULT, Some(5), None, false);
        let waits: Vec<u64> = (0..5).map(|n| match decide(Method::Get, answered(503), &p, n, 1, 600_000, 0.999_999) { Decision::Retry { wait_ms } => wait_ms, other => panic!("{other:?}") }).collect();
        assert_eq!(waits, [499, 999, 1999, 3999, 7999]);
    }

    #[test]
    fn posts_are_sent_again_only_with_an_idempotency_key() {
        let bare = Policy::new(&Upstream::DEFAULT, None, None, false);
        for ending in [answered(503), Ending::Unreachable, Ending::TimedOut] {
            assert_eq!(decide(Method::Post, ending, &bare, 0, 1, 60_000, 0.0), Decision::Final);
            assert_eq!(decide(Method::Patch, ending, &bare, 0, 1, 60_000, 0.0), Decision::Final);
            for method in [Method::Get, Method::Put, Method::Delete] {
                assert!(matches!(decide(method, ending, &bare, 0, 1, 60_000, 0.0), Decision::Retry { .. }), "{method:?}");
            }
        }
        let keyed = Policy::new(&STRIPE, None, None, true);
        assert!(matches!(decide(Method::Post, answered(502), &keyed, 0, 1, 60_000, 0.0), Decision::Retry { .. }));
        // Stripe's 409 is a race on the key; elsewhere it is a conflict.
        assert!(matches!(decide(Method::Post, answered(409), &keyed, 0, 1, 60_000, 0.0), Decision::Retry { .. }));
    }

    #[test]
    fn hints_overrule_the_status_but_never_the_method() {
        let p = Policy::new(&STRIPE, None, None, false);
        let hinted = |v: bool| Ending::Answered { status: if v { 400 } else { 503 }, hints: Hints { should_retry: Some(v), ..Hints::default() } };
        assert_eq!(decide(Method::Get, hinted(false), &p, 0, 1, 60_000, 0.0), Decision::Final);
        assert!(matches!(decide(Method::Get, hinted(true), &p, 0, 1, 60_000, 0.0), Decision::Retry { .. }));
        assert_eq!(decide(Method::Post, hinted(true), &p, 0, 1, 60_000, 0.0), Decision::Final, "no key: never twice");
    }

    #[test]
    fn retry_after_replaces_the_backoff_or_ends_the_call_at_once() {
        let p = Policy::new(&Upstream::DEFAULT, None, None, false);
        let after = |ms: u64, status: u16| Ending::Answered { status, hints: Hints { retry_after_ms: Some(ms), ..Hints::default() } };
        assert_eq!(decide(Method::Get, after(1000, 429), &p, 0, 1, 60_000, 0.0), Decision::Retry { wait_ms: 1000 });
        assert_eq!(decide(Method::Get, after(120_000, 429), &p, 0, 1, 600_000, 0.0), Decision::Final, "longer than a call waits");
        assert_eq!(decide(Method::Get, after(5_000, 503), &p, 0, 1, 4_000, 0.0), Decision::Final, "past the deadline");
        // A wall: 403 with the limit spent, its reset an epoch second; waited for when short.
        let now = 1_795_489_629_000.0;
        let hints = Hints::read([None, None, None, None, Some("0"), Some("1795489749")], now);
        assert_eq!((hints.wall, hints.wait_ms()), (Some(Some(120_000)), Some(120_000)));
        assert!(walled(403, &hints));
        assert_eq!(decide(Method::Get, Ending::Answered { status: 403, hints }, &p, 0, 1, 600_000, 0.0), Decision::Final);
        let soon = Hints::read([None, None, None, None, Some("0"), Some("1795489631")], now);
        assert_eq!(decide(Method::Get, Ending::Answered { status: 403, hints: soon }, &p, 0, 1, 600_000, 0.0), Decision::Retry { wait_ms: 2_000 });
        // A 403 with no wall is final.
        assert_eq!(decide(Method::Get, answered(403), &p, 0, 1, 600_000, 0.0), Decision::Final);
    }

    #[test]
    fn hint_headers_are_read_as_providers_write_them() {
        let now = 784_111_777_000.0;
        let h = Hints::read([None, Some("Sun, 06 Nov 1994 08:49:37 GMT"), None, Some("TRUE"), None, None], now);
        assert_eq!((h.retry_after_ms, h.should_retry), (Some(0), Some(true)));
        assert_eq!(http_date_ms("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777_000.0));
        let h = Hints::read([Some("1500"), Some("9"), Some("false"), Some("true"), None, None], now);
        assert_eq!((h.retry_after_ms, h.should_retry), (Some(1500), Some(false)), "retry-after-ms first; Stripe's hint first");
        assert_eq!(Hints::read([None, Some("soon"), None, None, None, None], now).retry_after_ms, None);
        assert_eq!(http_date_ms("Sun, 32 Nov 1994 08:49:37 GMT"), None);
        assert_eq!((decimal("0.01"), decimal("1500"), decimal(" 2.5 "), decimal(".5")), (Some(0.01), Some(1500.0), Some(2.5), Some(0.5)));
        for bad in ["", ".", "-1", "1e3", "x", "1.2.3"] {
            assert_eq!(decimal(bad), None, "{bad}");
        }
    }

    #[test]
    fn jitter_is_spread_and_repeatable() {
        let a = jitter("3f6c0a2e-8d2b-4a55-9d36-1b7f0d2c9e41", 1);
        assert_eq!(a, jitter("3f6c0a2e-8d2b-4a55-9d36-1b7f0d2c9e41", 1));
        assert!((0.0..1.0).contains(&a));
        let spread: Vec<f64> = (0..100).map(|i| jitter(&format!("id-{i}"), 1)).collect();
        assert!(spread.iter().any(|x| *x < 0.2) && spread.iter().any(|x| *x > 0.8));
    }
}
