//! Runs a fuzz target: a proptest property, for a number of cases or for a stretch of time.
//!
//! - `CAPA_FUZZ_SECONDS=600`: keep running rounds of fresh cases for ten minutes (`npm run
//!   fuzz`); without it, one round of `CAPA_FUZZ_CASES` cases (default 2,000: the short run
//!   `npm test` makes).
//! - `CAPA_FUZZ_SEED`: the first round's seed (default: the clock), printed with any failure, so
//!   a failure replays with it.
//!
//! - `CAPA_FUZZ_SHRINK`: the most shrinking steps (default 20,000); a failure in a target whose
//!   check is slow (the request fuzz's decoding detector) reports sooner with a few dozen.
//!
//! A failing case is shrunk to a minimal input and reported with it. Executions are counted and
//! printed (`--nocapture` shows them).

#![allow(dead_code)]

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use std::time::{Duration, Instant};

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

pub fn run<S>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy,
    S::Value: std::fmt::Debug,
{
    let budget = env_u64("CAPA_FUZZ_SECONDS").map(Duration::from_secs);
    let cases = env_u64("CAPA_FUZZ_CASES").unwrap_or(2_000) as u32;
    let first_seed = env_u64("CAPA_FUZZ_SEED").unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()));
    let started = Instant::now();
    let (mut executions, mut round) = (0u64, 0u64);
    loop {
        let seed = first_seed.wrapping_add(round);
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        let config = Config { cases, failure_persistence: None, max_shrink_iters: std::env::var("CAPA_FUZZ_SHRINK").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000), ..Config::default() };
        let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
        match runner.run(&strategy, &test) {
            Ok(()) => {}
            Err(TestError::Fail(reason, minimal)) => {
                panic!("fuzz {name}: {reason}\nminimal failing input: {minimal:#?}\nreplay: CAPA_FUZZ_SEED={seed} CAPA_FUZZ_CASES={cases}")
            }
            Err(TestError::Abort(reason)) => panic!("fuzz {name}: aborted: {reason} (seed {seed})"),
        }
        executions += u64::from(cases);
        round += 1;
        match budget {
            Some(budget) if started.elapsed() < budget => continue,
            _ => break,
        }
    }
    eprintln!("fuzz {name}: {executions} executions in {:.1} s, 0 failures (first seed {first_seed})", started.elapsed().as_secs_f64());
}
