//! Wall-clock benchmark: h1parse, httparse and picohttpparser (C, SSE4.2,
//! fed in pieces with its `last_len`) in the same run on the same inputs,
//! whole and fed 1, 7 and 64 bytes per call.
//!
//!     cargo bench -p h1parse --bench parse
//!
//! Instruction counts (steadier on a shared machine) come from
//! `examples/instructions.rs` under callgrind: see `ci/bench-parser.sh`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

#[path = "drivers.rs"]
mod drivers;
#[path = "inputs.rs"]
mod inputs;

fn requests(c: &mut Criterion) {
    for (name, buf) in inputs::requests() {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(buf.len() as u64));
        for step in [0usize, 64, 7, 1] {
            let label = if step == 0 {
                "whole".to_string()
            } else {
                format!("fed-{step}")
            };
            g.bench_with_input(BenchmarkId::new("h1parse", &label), &buf, |b, buf| {
                let mut headers = [h1parse::Header::EMPTY; 128];
                let mut parser = h1parse::RequestParser::new();
                b.iter(|| {
                    drivers::h1parse_requests(&mut parser, black_box(buf), step, &mut headers)
                })
            });
            g.bench_with_input(BenchmarkId::new("pico", &label), &buf, |b, buf| {
                let mut headers = [picohttpparser_sys::phr_header::default(); 128];
                b.iter(|| drivers::pico_requests(black_box(buf), step, &mut headers))
            });
            // httparse fed byte by byte re-parses quadratically: keep it to the small inputs.
            if step == 1 && buf.len() > 2048 {
                continue;
            }
            g.bench_with_input(BenchmarkId::new("httparse", &label), &buf, |b, buf| {
                let mut headers = [httparse::EMPTY_HEADER; 128];
                b.iter(|| drivers::httparse_requests(black_box(buf), step, &mut headers))
            });
        }
        g.finish();
    }
}

fn responses(c: &mut Criterion) {
    for (name, buf) in inputs::responses() {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(buf.len() as u64));
        g.bench_with_input(BenchmarkId::new("h1parse", "whole"), &buf, |b, buf| {
            let mut headers = [h1parse::Header::EMPTY; 32];
            let mut parser = h1parse::ResponseParser::new();
            b.iter(|| drivers::h1parse_response(&mut parser, black_box(buf), &mut headers))
        });
        g.bench_with_input(BenchmarkId::new("httparse", "whole"), &buf, |b, buf| {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            b.iter(|| drivers::httparse_response(black_box(buf), &mut headers))
        });
        g.bench_with_input(BenchmarkId::new("pico", "whole"), &buf, |b, buf| {
            let mut headers = [picohttpparser_sys::phr_header::default(); 32];
            b.iter(|| drivers::pico_response(black_box(buf), &mut headers))
        });
        g.finish();
    }
}

criterion_group!(benches, requests, responses);
criterion_main!(benches);
