//! The per-call hot path, natively, for instruction counts: arguments → request → envelope for
//! `paymentIntents.create` or `customers.list`, in a loop. Deterministic under callgrind:
//!   cargo build --release --example hot_path
//!   N=20000 valgrind --tool=callgrind target/release/examples/hot_path create
use capa_rs::call::{begin, Bindings, Step};
use capa_rs::provider::PROVIDER;
use capa_rs::http::HttpResponse;
struct Env;
impl Bindings for Env {
    fn get(&self, name: &str) -> Option<&str> {
        (name == "STRIPE_API_KEY").then_some("sk_test_bench_0000000000000000000000")
    }
}
fn main() {
    let which = std::env::args().nth(1).unwrap_or("create".into());
    let (call, args) = if which == "create" {
        ("paymentIntents.create", r#"[{"amount":2500,"currency":"usd","metadata":{"order_id":"A1"}}]"#)
    } else {
        ("customers.list", r#"[{"limit":3,"expand":["data.default_source"]}]"#)
    };
    let op = PROVIDER.operations.iter().position(|o| o.call == call).unwrap() as u32;
    let body = r#"{"object":"list","data":[{"id":"cus_1"}]}"#;
    let n: usize = std::env::var("N").ok().and_then(|v| v.parse().ok()).unwrap_or(200_000);
    let t = std::time::Instant::now();
    for _ in 0..n {
        let Step::Fetch(c) = begin(&PROVIDER, op, args, &Env, 1.0) else { panic!() };
        let mut out = String::new();
        c.push_fetch_json(&mut out, 1.0);
        std::hint::black_box(out);
        let r = HttpResponse { status: 200, content_type: Some("application/json"), request_id: Some("req_1"), location: None, hints: Default::default(), link: None, binary: false, body: &body };
        std::hint::black_box(c.finish(&r, 2.0));
    }
    eprintln!("{which}: {:.2} µs/call", t.elapsed().as_secs_f64() * 1e6 / n as f64);
}
