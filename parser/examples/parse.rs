//! Parse one request head from standard input and say what h1parse made of
//! it: the parts and the framing, or the error and the status a server would
//! answer with.
//!
//! ```sh
//! printf 'GET / HTTP/1.1\r\nHost: example.com\r\n\r\n' | cargo run -q -p h1parse --example parse
//! printf 'GET / HTTP/1.1\r\nHost : example.com\r\n\r\n' | cargo run -q -p h1parse --example parse
//! ```
//!
//! Exit status: 0 a complete head, 1 a parse error, 2 the input ends before
//! the head does.

use std::io::Read;
use std::process::ExitCode;

use h1parse::{Header, RequestParser, Status};

fn main() -> ExitCode {
    let mut buf = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut buf) {
        eprintln!("parse: reading standard input: {e}");
        return ExitCode::from(2);
    }
    let mut headers = [Header::EMPTY; 64];
    match RequestParser::new().parse(&buf, &mut headers) {
        Ok(Status::Complete(req)) => {
            let head = req.head(&buf, &headers);
            println!("method   {}", String::from_utf8_lossy(head.method()));
            println!(
                "target   {} ({:?})",
                String::from_utf8_lossy(head.target()),
                req.target_form
            );
            println!("version  {:?}", req.version);
            for (name, value) in head.headers() {
                println!(
                    "field    {}: {}",
                    String::from_utf8_lossy(name),
                    String::from_utf8_lossy(value)
                );
            }
            println!("body     {:?}", req.body);
            println!("persists {}", req.keep_alive);
            println!("head     {} bytes", req.head_len);
            ExitCode::SUCCESS
        }
        Ok(Status::Partial) => {
            eprintln!(
                "parse: incomplete head after {} bytes (a head ends with an empty line: \\r\\n\\r\\n)",
                buf.len()
            );
            ExitCode::from(2)
        }
        Err(e) => {
            println!("error    {:?}: {e}", e.kind);
            println!("answer   {}", e.status());
            ExitCode::from(1)
        }
    }
}
