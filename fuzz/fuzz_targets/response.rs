//! The response parser on arbitrary bytes.
#![no_main]

use h1parse::{BodyKind, Header, ResponseParser, Status};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let head = data.first().is_some_and(|b| b & 1 == 1);
    let mut headers = [Header::EMPTY; 64];
    match ResponseParser::new()
        .for_head_request(head)
        .parse(data, &mut headers)
    {
        Ok(Status::Complete(r)) => {
            assert!(r.head_len <= data.len());
            assert!((100..=599).contains(&r.status));
            if head || r.status < 200 || r.status == 204 || r.status == 304 {
                assert_eq!(r.body, BodyKind::None);
            }
            if r.body == BodyKind::UntilClose {
                assert!(!r.keep_alive);
            }
        }
        Ok(Status::Partial) => {}
        Err(e) => assert!(e.offset <= data.len()),
    }
});
