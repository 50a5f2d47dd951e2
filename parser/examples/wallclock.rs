//! Wall-clock ratio of h1parse to httparse and to picohttpparser that holds
//! up on a noisy shared machine: the parsers run in alternating short rounds
//! in one process,
//! and the best round of each is kept, so both are timed under the same
//! conditions (criterion runs one after the other, minutes apart).
//!
//!     wallclock [rounds] [step=N] [input ...]
//!
//! `step=N` feeds request heads N bytes per call (h1parse resuming, httparse
//! re-parsing from byte 0, picohttpparser with `last_len`); 0, the default,
//! parses them whole. Responses are always whole.
//!
//! Prints ns per head for each and the speed-ups (httparse time / h1parse
//! time, pico time / h1parse time). `ci/bench-parser.sh` runs it beside the criterion benchmark.

#[path = "../benches/drivers.rs"]
mod drivers;
#[path = "../benches/inputs.rs"]
mod inputs;

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1).peekable();
    let rounds = match args.peek().map(|a| a.parse::<usize>()) {
        Some(Ok(n)) if n > 0 => {
            args.next();
            n
        }
        Some(Ok(_)) => {
            eprintln!("usage: wallclock [rounds > 0] [input ...]");
            return ExitCode::from(2);
        }
        _ => 40,
    };
    let mut step = 0;
    if let Some(s) = args.peek().and_then(|a| a.strip_prefix("step=")) {
        let Ok(n) = s.parse::<usize>() else {
            eprintln!("usage: wallclock [rounds > 0] [step=N] [input ...]");
            return ExitCode::from(2);
        };
        step = n;
        args.next();
    }
    let names: Vec<String> = args.collect();
    let all: Vec<_> = inputs::requests()
        .into_iter()
        .chain(inputs::responses())
        .collect();
    if let Some(bad) = names.iter().find(|n| !all.iter().any(|(a, _)| a == n)) {
        let known: Vec<_> = all.iter().map(|(n, _)| *n).collect();
        eprintln!("unknown input {bad}; inputs: {}", known.join(" "));
        return ExitCode::from(2);
    }
    let mut h1_headers = [h1parse::Header::EMPTY; 128];
    let mut req_parser = h1parse::RequestParser::new();
    let mut resp_parser = h1parse::ResponseParser::new();
    let fed = if step == 0 {
        "whole".to_string()
    } else {
        format!("requests fed {step} B per call")
    };
    println!("wall clock, {fed}, best of {rounds} alternating rounds (ns per head; higher speed-up = h1parse faster)");
    for (name, buf) in &all {
        if !names.is_empty() && !names.iter().any(|n| n == name) {
            continue;
        }
        let mut hp_headers = [httparse::EMPTY_HEADER; 128];
        let mut pico_headers = [picohttpparser_sys::phr_header::default(); 128];
        let response = name.starts_with("resp");
        let heads = if *name == "pipelined16" { 16.0 } else { 1.0 };
        // About a millisecond per round (fed in pieces, fewer).
        let iters = (200_000 / buf.len()).clamp(50, 20_000) / if step == 0 { 1 } else { 20 };
        let iters = iters.max(5);
        let (mut h1, mut hp, mut pico) = (f64::MAX, f64::MAX, f64::MAX);
        for _ in 0..rounds {
            let t = Instant::now();
            for _ in 0..iters {
                let b = black_box(&buf[..]);
                black_box(if response {
                    drivers::h1parse_response(&mut resp_parser, b, &mut h1_headers)
                } else {
                    drivers::h1parse_requests(&mut req_parser, b, step, &mut h1_headers)
                });
            }
            h1 = h1.min(t.elapsed().as_nanos() as f64 / iters as f64 / heads);
            let t = Instant::now();
            for _ in 0..iters {
                let b = black_box(&buf[..]);
                black_box(if response {
                    drivers::httparse_response(b, &mut hp_headers)
                } else {
                    drivers::httparse_requests(b, step, &mut hp_headers)
                });
            }
            hp = hp.min(t.elapsed().as_nanos() as f64 / iters as f64 / heads);
            let t = Instant::now();
            for _ in 0..iters {
                let b = black_box(&buf[..]);
                black_box(if response {
                    drivers::pico_response(b, &mut pico_headers)
                } else {
                    drivers::pico_requests(b, step, &mut pico_headers)
                });
            }
            pico = pico.min(t.elapsed().as_nanos() as f64 / iters as f64 / heads);
        }
        println!(
            "{name:<12} h1parse {h1:>8.1}  httparse {hp:>8.1}  pico {pico:>8.1}  speed-up vs httparse {:>5.2}x  vs pico {:>5.2}x",
            hp / h1,
            pico / h1
        );
    }
    ExitCode::SUCCESS
}
