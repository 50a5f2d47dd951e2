//! Replays every input in `corpus/regressions/` (crashes and findings of the
//! fuzzers, and bugs found any other way) through the checks the fuzz targets
//! make: no panic, offsets inside the input, split equals whole, chunked
//! decoder equals the reference.

mod common;

use std::path::Path;

use common::*;
use pretty_assertions::assert_eq;

#[test]
fn replay_regressions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus/regressions exists") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let input = std::fs::read(&path).unwrap();
        let name = path.display().to_string();
        let all: Vec<usize> = (0..input.len()).collect();

        let whole = request_whole(&input);
        if let Outcome::Failed(e) = &whole {
            assert!(e.offset <= input.len(), "{name}");
        }
        assert_eq!(request_split(&input, &all), whole, "{name}: request split");

        for head in [false, true] {
            let whole = response_split(&input, &[], head);
            assert_eq!(
                response_split(&input, &all, head),
                whole,
                "{name}: response split"
            );
        }

        let whole = chunked_split(&input, &[]);
        assert_eq!(chunked_split(&input, &all), whole, "{name}: chunked split");
        if let Ok((d, c, true)) = &whole {
            assert_eq!(
                chunked_reference(&input),
                Some((d.clone(), *c, true)),
                "{name}: reference"
            );
        }
        n += 1;
    }
    println!("replayed {n} regression inputs");
}
