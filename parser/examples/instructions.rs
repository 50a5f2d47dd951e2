//! Callgrind driver: runs one parse workload N times so that instruction
//! counts per parse can be read off `valgrind --tool=callgrind` (run it with
//! N and with 0 and divide the difference by N). `ci/bench-parser.sh` does this.
//!
//!     instructions <h1parse|httparse> <input> <step> <iterations>
//!
//! `step` 0 parses each head whole; otherwise heads are fed `step` bytes per
//! call; `half` feeds two pieces split in the middle.

#[path = "../benches/drivers.rs"]
mod drivers;
#[path = "../benches/inputs.rs"]
mod inputs;

use std::hint::black_box;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: instructions <h1parse|httparse> <input> <step> <iterations>\n\
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
    // `half`: two pieces, split in the middle (the first one the longer if the length is odd).
    let step = if args[3] == "half" {
        Ok(buf.len().div_ceil(2))
    } else {
        args[3].parse::<usize>()
    };
    let (Ok(step), Ok(iters)) = (step, args[4].parse::<usize>()) else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    let response = name.starts_with("resp");
    let mut h1_headers = [h1parse::Header::EMPTY; 128];
    let mut req_parser = h1parse::RequestParser::new();
    let mut resp_parser = h1parse::ResponseParser::new();
    let mut hp_headers = [httparse::EMPTY_HEADER; 128];
    let mut total = 0;
    for _ in 0..iters {
        total += match (args[1].as_str(), response) {
            ("h1parse", false) => drivers::h1parse_requests(&mut req_parser, black_box(&buf), step, &mut h1_headers),
            ("httparse", false) => {
                drivers::httparse_requests(black_box(&buf), step, &mut hp_headers)
            }
            ("h1parse", true) => drivers::h1parse_response(&mut resp_parser, black_box(&buf), &mut h1_headers),
            ("httparse", true) => drivers::httparse_response(black_box(&buf), &mut hp_headers),
            _ => {
                eprintln!("unknown parser {}\n{usage}", args[1]);
                return ExitCode::from(2);
            }
        };
    }
    black_box(total);
    ExitCode::SUCCESS
}
