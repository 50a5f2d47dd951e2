//! The request parser on arbitrary bytes: never panics, and what it returns
//! stays inside the input.
#![no_main]

use h1parse::{Header, RequestParser, Status};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut headers = [Header::EMPTY; 64];
    let lenient = data.first().is_some_and(|b| b & 1 == 1);
    let mut parser = RequestParser::new().allow_bare_lf(lenient);
    match parser.parse(data, &mut headers) {
        Ok(Status::Complete(req)) => {
            assert!(req.head_len <= data.len());
            let head = req.head(data, &headers);
            assert!(req.method.end as usize <= req.head_len && !head.method().is_empty());
            assert!(!head.target().is_empty());
            for (name, value) in head.headers() {
                assert!(!name.is_empty());
                assert!(!value.starts_with(b" ") && !value.ends_with(b" "));
            }
            // the same answer again, without rescanning
            assert_eq!(parser.parse(data, &mut headers), Ok(Status::Complete(req)));
        }
        Ok(Status::Partial) => assert!(data.len() < 16 * 1024),
        Err(e) => {
            assert!(e.offset <= data.len(), "{e:?} past {} bytes", data.len());
            assert!(matches!(e.status(), 400 | 414 | 431 | 501 | 505));
        }
    }
});
