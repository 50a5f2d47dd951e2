//! The chunked decoder on arbitrary bytes and splits, checked against the
//! plain reference decoder of the property tests.
#![no_main]

use arbitrary::Arbitrary;
use h1parse::{ChunkedDecoder, Error};
use libfuzzer_sys::fuzz_target;

#[path = "../../parser/tests/common/reference.rs"]
mod reference;

#[derive(Debug, Arbitrary)]
struct Input {
    data: Vec<u8>,
    splits: Vec<u16>,
}

fn decode(input: &[u8], points: &[usize]) -> Result<(Vec<u8>, usize, bool), Error> {
    let mut dec = ChunkedDecoder::new();
    let mut data = Vec::new();
    let mut consumed = 0;
    for &end in points {
        loop {
            let avail = &input[consumed..end];
            let c = dec.decode(avail)?;
            assert!(c.consumed <= avail.len() && c.data.end <= c.consumed);
            data.extend_from_slice(&avail[c.data.clone()]);
            consumed += c.consumed;
            if c.done {
                return Ok((data, consumed, true));
            }
            if c.consumed == 0 || consumed == end {
                break;
            }
        }
    }
    Ok((data, consumed, false))
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
    let whole = decode(data, &[data.len()]);
    let split = decode(data, &points);
    assert_eq!(whole, split, "fragmentation changed the outcome");
    if let Err(e) = &whole {
        assert!(e.offset <= data.len());
    }
    let reference = reference::chunked_reference(data);
    match (&whole, &reference) {
        (Ok((d, n, true)), r) => assert_eq!(r, &Some((d.clone(), *n, true))),
        (_, Some((d, n, true))) => assert_eq!(&whole, &Ok((d.clone(), *n, true))),
        (Ok(_), None) => panic!("reference rejects what the decoder accepts so far"),
        _ => {}
    }
});
