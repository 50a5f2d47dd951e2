//! Property tests of h1parse: fragmentation invariance, round trip, no panic
//! with bounded offsets, and agreement with httparse and with a plain
//! reference chunked decoder.

mod common;

use common::*;
use h1parse::{BodyKind, Header, RequestParser, Status, Version};
use pretty_assertions::assert_eq;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// (1) A valid request split anywhere parses exactly as it does whole.
    #[test]
    fn fragmentation_invariance_valid(req in request(), raw in prop::collection::vec(any::<prop::sample::Index>(), 0..12)) {
        let whole = request_whole(&req.bytes);
        prop_assert!(matches!(whole, Outcome::Complete(..)), "{:?}", whole);
        let points = splits(req.bytes.len(), &raw);
        prop_assert_eq!(request_split(&req.bytes, &points), whole);
    }

    /// (1) The same for invalid and near-valid inputs: same error kind and offset.
    #[test]
    fn fragmentation_invariance_any(input in near_request(), raw in prop::collection::vec(any::<prop::sample::Index>(), 0..12)) {
        let points = splits(input.len(), &raw);
        prop_assert_eq!(request_split(&input, &points), request_whole(&input));
    }

    /// (1) Byte at a time, the hardest split.
    #[test]
    fn byte_at_a_time_equals_whole(input in near_request()) {
        let points: Vec<usize> = (0..input.len()).collect();
        prop_assert_eq!(request_split(&input, &points), request_whole(&input));
    }

    /// (2) Round trip: generated parts come back out.
    #[test]
    fn round_trip(req in request()) {
        let mut headers = [Header::EMPTY; 32];
        let r = RequestParser::new().parse(&req.bytes, &mut headers).unwrap().complete().unwrap();
        let head = r.head(&req.bytes, &headers);
        prop_assert_eq!(head.method(), req.method.as_bytes());
        prop_assert_eq!(head.target(), req.target.as_bytes());
        prop_assert_eq!(r.minor, req.minor);
        prop_assert_eq!(r.version, if req.minor == 0 { Version::Http10 } else { Version::Http11 });
        prop_assert_eq!(r.head_len, req.bytes.len());
        let got: Vec<(Vec<u8>, Vec<u8>)> = head.headers().map(|(n, v)| (n.to_vec(), v.to_vec())).collect();
        let want: Vec<(Vec<u8>, Vec<u8>)> = req.headers.iter().map(|(n, v)| (n.clone().into_bytes(), v.clone().into_bytes())).collect();
        prop_assert_eq!(got, want);
        let cl = req.headers.iter().find(|(n, _)| n == "Content-Length").map(|(_, v)| v.parse::<u64>().unwrap());
        prop_assert_eq!(r.body, cl.map_or(BodyKind::None, BodyKind::Length));
        prop_assert_eq!(r.keep_alive, req.minor != 0);
    }

    /// (3) Arbitrary bytes never panic, and an error offset never exceeds the input.
    #[test]
    fn arbitrary_bytes_bounded(input in prop::collection::vec(any::<u8>(), 0..300)) {
        if let Outcome::Failed(e) = request_whole(&input) {
            prop_assert!(e.offset <= input.len(), "{:?} for {} bytes", e, input.len());
        }
    }

    #[test]
    fn near_requests_bounded(input in near_request()) {
        match request_whole(&input) {
            Outcome::Failed(e) => prop_assert!(e.offset <= input.len()),
            Outcome::Complete(r, _) => prop_assert!(r.head_len <= input.len()),
            Outcome::Partial => {}
        }
    }

    /// (4) httparse agrees on the requests both must accept.
    #[test]
    fn agrees_with_httparse(req in request()) {
        // httparse refuses HTTP/1.2, which RFC 9110 §2.5 says to process as 1.1.
        prop_assume!(req.minor <= 1);
        let mut hh = [httparse::EMPTY_HEADER; 32];
        let mut theirs = httparse::Request::new(&mut hh);
        let status = theirs.parse(&req.bytes).unwrap();
        prop_assert_eq!(status, httparse::Status::Complete(req.bytes.len()));
        let Outcome::Complete(ours, headers) = request_whole(&req.bytes) else { panic!("we rejected a valid request") };
        prop_assert_eq!(theirs.method.unwrap().as_bytes(), ours.method.get(&req.bytes));
        prop_assert_eq!(theirs.path.unwrap().as_bytes(), ours.target.get(&req.bytes));
        prop_assert_eq!(theirs.version.unwrap(), ours.minor);
        let theirs_h: Vec<(Vec<u8>, Vec<u8>)> = theirs.headers.iter().map(|h| (h.name.as_bytes().to_vec(), h.value.to_vec())).collect();
        prop_assert_eq!(theirs_h, headers);
    }

    /// Where h1parse accepts a mutated request, httparse accepts it too and sees the same parts
    /// (we are never more lenient than httparse).
    #[test]
    fn accepted_implies_httparse_accepts(input in near_request()) {
        if let Outcome::Complete(ours, headers) = request_whole(&input) {
            // httparse refuses HTTP/1.2, which RFC 9110 §2.5 says to process as 1.1.
            prop_assume!(ours.minor <= 1);
            let mut hh = [httparse::EMPTY_HEADER; 32];
            let mut theirs = httparse::Request::new(&mut hh);
            // httparse accepts leading empty lines too
            let status = theirs.parse(&input);
            prop_assert_eq!(status, Ok(httparse::Status::Complete(ours.head_len)), "{:?}", String::from_utf8_lossy(&input));
            let theirs_h: Vec<(Vec<u8>, Vec<u8>)> = theirs.headers.iter().map(|h| (h.name.as_bytes().to_vec(), h.value.to_vec())).collect();
            prop_assert_eq!(theirs_h, headers);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Chunked: a generated body decodes to its data whatever the splits.
    #[test]
    fn chunked_round_trip((wire, data) in chunked_body(), raw in prop::collection::vec(any::<prop::sample::Index>(), 0..10)) {
        let mut input = wire.clone();
        input.extend_from_slice(b"GET /next");
        let points = splits(input.len(), &raw);
        let got = chunked_split(&input, &points).unwrap();
        prop_assert_eq!(got, (data, wire.len(), true));
    }

    /// Chunked: agreement with the plain reference decoder on mutated bodies, under any split.
    #[test]
    fn chunked_matches_reference(
        (wire, _) in chunked_body(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 0..3),
        raw in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
    ) {
        let mut input = wire;
        for (i, byte, op) in edits {
            if input.is_empty() { break; }
            let i = i.index(input.len());
            let special = [b'\r', b'\n', b';', b' ', b'0', b'g', 0, byte][byte as usize % 8];
            match op { 0 => input[i] = special, 1 => input.insert(i, special), _ => { input.remove(i); } }
        }
        let whole = chunked_split(&input, &[]);
        let points = splits(input.len(), &raw);
        let split = chunked_split(&input, &points);
        prop_assert_eq!(&split, &whole, "fragmentation changed the outcome");
        let reference = chunked_reference(&input);
        match (&whole, &reference) {
            (Ok((d, n, true)), r) => prop_assert_eq!(r, &Some((d.clone(), *n, true))),
            (_, Some((d, n, true))) => prop_assert_eq!(&whole, &Ok((d.clone(), *n, true))),
            (Ok(_), None) => prop_assert!(false, "reference rejects, decoder accepts a prefix: {:?}", String::from_utf8_lossy(&input)),
            (Err(e), _) => prop_assert!(e.offset <= input.len()),
            _ => {}
        }
    }

    /// Chunked: arbitrary bytes never panic; offsets bounded.
    #[test]
    fn chunked_arbitrary(input in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Err(e) = chunked_split(&input, &[]) {
            prop_assert!(e.offset <= input.len());
        }
    }

    /// Response: fragmentation invariance and agreement with httparse on generated responses.
    #[test]
    fn response_fragmentation_and_httparse(
        status in 100u16..600,
        headers in prop::collection::vec((plain_name(), value()), 0..8),
        cl in prop::option::of(0u64..1000),
        head in any::<bool>(),
        raw in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
        mutate in prop::option::of((any::<prop::sample::Index>(), prop::sample::select(vec![b'\r', b'\n', b' ', b':', 0u8]))),
    ) {
        let mut bytes = format!("HTTP/1.1 {status} Reason Here\r\n").into_bytes();
        for (n, v) in &headers { bytes.extend_from_slice(format!("{n}: {v}\r\n").as_bytes()); }
        if let Some(n) = cl { bytes.extend_from_slice(format!("Content-Length: {n}\r\n").as_bytes()); }
        bytes.extend_from_slice(b"\r\n");
        let valid = mutate.is_none();
        if let Some((i, b)) = mutate { let i = i.index(bytes.len()); bytes[i] = b; }
        let points = splits(bytes.len(), &raw);
        let whole = response_split(&bytes, &[], head);
        prop_assert_eq!(response_split(&bytes, &points, head), whole.clone());
        match &whole {
            RespOutcome::Failed(e) => prop_assert!(e.offset <= bytes.len()),
            RespOutcome::Complete(r, hs) => {
                let mut hh = [httparse::EMPTY_HEADER; 32];
                let mut theirs = httparse::Response::new(&mut hh);
                prop_assert_eq!(theirs.parse(&bytes), Ok(httparse::Status::Complete(r.head_len)));
                prop_assert_eq!(theirs.code, Some(r.status));
                let theirs_h: Vec<(Vec<u8>, Vec<u8>)> = theirs.headers.iter().map(|h| (h.name.as_bytes().to_vec(), h.value.to_vec())).collect();
                prop_assert_eq!(&theirs_h, hs);
                if valid {
                    let no_body = head || status < 200 || status == 204 || status == 304;
                    let want = if no_body { BodyKind::None } else { cl.map_or(BodyKind::UntilClose, BodyKind::Length) };
                    prop_assert_eq!(r.body, want);
                }
            }
            RespOutcome::Partial => prop_assert!(!valid),
        }
    }
}

/// Regression: the partial-status contract on an empty buffer.
#[test]
fn empty_input_is_partial() {
    let mut h = [Header::EMPTY; 1];
    assert_eq!(RequestParser::new().parse(b"", &mut h), Ok(Status::Partial));
}
