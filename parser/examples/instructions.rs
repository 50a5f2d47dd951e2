//! Callgrind driver: runs one parse workload N times so that instruction
//! counts per parse can be read off `valgrind --tool=callgrind` (run it with
//! N and with 0 and divide the difference by N). `ci/bench-parser.sh` does this.
//!
//!     instructions <h1parse|httparse|pico> <input> <step> <iterations>
//!
//! `step` 0 parses each head whole; otherwise heads are fed `step` bytes per
//! call; `half` feeds two pieces split in the middle; `at:N` two pieces
//! split at offset N; `splits` every two-piece split in turn (N = 1 ..
//! len-1); `wholes` the head whole len-1 times, the same way (the baseline
//! for `splits`: both leave the driver's own per-iteration cost out). The
//! last four are for inputs of one head.

#[path = "../benches/drivers.rs"]
mod drivers;
#[path = "../benches/inputs.rs"]
mod inputs;

use std::hint::black_box;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: instructions <h1parse|httparse|pico> <input> <step|half|at:N|splits|wholes|len> <iterations>\n\
                 inputs: req req_short browser headers100 pipelined16 head1k head8k resp resp_short";
    if args.len() != 5 {
        eprintln!("{usage}");
        return ExitCode::from(2);
    }
    let all: Vec<_> = inputs::requests()
        .into_iter()
        .chain(inputs::responses())
        .collect();
    let Some((name, buf)) = all.into_iter().find(|(n, _)| *n == args[2]) else {
        eprintln!("unknown input {}\n{usage}", args[2]);
        return ExitCode::from(2);
    };
    if args[3] == "len" {
        // For scripts: the input's length in bytes.
        println!("{}", buf.len());
        return ExitCode::SUCCESS;
    }
    enum Mode {
        Step(usize),
        At(usize),
        Splits,
        Wholes,
    }
    let mode = match args[3].as_str() {
        // Two pieces, split in the middle (the first the longer if the length is odd).
        "half" => Some(Mode::Step(buf.len().div_ceil(2))),
        "splits" => Some(Mode::Splits),
        "wholes" => Some(Mode::Wholes),
        s => match s.strip_prefix("at:") {
            Some(n) => n
                .parse()
                .ok()
                .filter(|&n| n > 0 && n < buf.len())
                .map(Mode::At),
            None => s.parse().ok().map(Mode::Step),
        },
    };
    let (Some(mode), Ok(iters)) = (mode, args[4].parse::<usize>()) else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    let response = name.starts_with("resp");
    if !matches!(mode, Mode::Step(_)) && (args[1] != "h1parse" || response || name == "pipelined16")
    {
        eprintln!(
            "at:N, splits and wholes are for h1parse on an input of one request head\n{usage}"
        );
        return ExitCode::from(2);
    }
    let mut h1_headers = [h1parse::Header::EMPTY; 128];
    let mut req_parser = h1parse::RequestParser::new();
    let mut resp_parser = h1parse::ResponseParser::new();
    let mut hp_headers = [httparse::EMPTY_HEADER; 128];
    let mut pico_headers = [picohttpparser_sys::phr_header::default(); 128];
    let mut total = 0;
    for _ in 0..iters {
        let buf = black_box(&buf[..]);
        total += match (&mode, args[1].as_str(), response) {
            (Mode::At(at), _, _) => {
                drivers::h1parse_two(&mut req_parser, buf, *at, &mut h1_headers)
            }
            (Mode::Splits, _, _) => (1..buf.len())
                .map(|at| drivers::h1parse_two(&mut req_parser, buf, at, &mut h1_headers))
                .sum(),
            (Mode::Wholes, _, _) => (1..buf.len())
                .map(|_| drivers::h1parse_requests(&mut req_parser, buf, 0, &mut h1_headers))
                .sum(),
            (Mode::Step(step), "h1parse", false) => {
                drivers::h1parse_requests(&mut req_parser, buf, *step, &mut h1_headers)
            }
            (Mode::Step(step), "httparse", false) => {
                drivers::httparse_requests(buf, *step, &mut hp_headers)
            }
            (Mode::Step(step), "pico", false) => {
                drivers::pico_requests(buf, *step, &mut pico_headers)
            }
            (Mode::Step(_), "pico", true) => drivers::pico_response(buf, &mut pico_headers),
            (Mode::Step(_), "h1parse", true) => {
                drivers::h1parse_response(&mut resp_parser, buf, &mut h1_headers)
            }
            (Mode::Step(_), "httparse", true) => drivers::httparse_response(buf, &mut hp_headers),
            _ => {
                eprintln!("unknown parser {}\n{usage}", args[1]);
                return ExitCode::from(2);
            }
        };
    }
    black_box(total);
    ExitCode::SUCCESS
}
