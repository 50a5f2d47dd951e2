//! Fed in pieces must equal fed whole: for requests and responses.
#![no_main]

use arbitrary::Arbitrary;
use h1parse::{Header, RequestParser, ResponseParser, Status};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    data: Vec<u8>,
    splits: Vec<u16>,
    response: bool,
}

fuzz_target!(|input: Input| {
    let data = &input.data;
    let mut points: Vec<usize> = input
        .splits
        .iter()
        .map(|&s| s as usize % (data.len() + 1))
        .collect();
    points.sort_unstable();
    points.push(data.len());

    macro_rules! check {
        ($new:expr) => {{
            let mut h_whole = [Header::EMPTY; 32];
            let whole = $new.parse(data, &mut h_whole);
            let mut h_split = [Header::EMPTY; 32];
            let mut p = $new;
            let mut split = Ok(Status::Partial);
            for &end in &points {
                split = p.parse(&data[..end], &mut h_split);
                if !matches!(split, Ok(Status::Partial)) {
                    break;
                }
            }
            assert_eq!(whole, split);
            if let Ok(Status::Complete(r)) = whole {
                let a: Vec<_> = r.head(data, &h_whole).headers().collect();
                let b: Vec<_> = r.head(data, &h_split).headers().collect();
                assert_eq!(a, b);
            }
        }};
    }
    if input.response {
        check!(ResponseParser::new());
    } else {
        check!(RequestParser::new());
    }
});
