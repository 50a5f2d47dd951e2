//! Parses every committed request in `corpus/requests/` and checks the outcome
//! its `.expect` sidecar states, whole and byte at a time.

use std::path::{Path, PathBuf};

use h1parse::{BodyKind, Header, RequestParser, Status};
use pretty_assertions::assert_eq;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/requests")
}

/// The outcome in the sidecar's words.
fn describe(input: &[u8], byte_at_a_time: bool) -> String {
    let mut headers = [Header::EMPTY; 64];
    let mut p = RequestParser::new();
    let ends: Vec<usize> = if byte_at_a_time {
        (1..=input.len()).collect()
    } else {
        vec![input.len()]
    };
    let mut last = Ok(Status::Partial);
    for end in ends {
        last = p.parse(&input[..end], &mut headers);
        if !matches!(last, Ok(Status::Partial)) {
            break;
        }
    }
    match last {
        Ok(Status::Complete(r)) => {
            let body = match r.body {
                BodyKind::None => "none".to_string(),
                BodyKind::Length(n) => format!("length:{n}"),
                BodyKind::Chunked => "chunked".to_string(),
                BodyKind::UntilClose => "until-close".to_string(),
            };
            let conn = if r.keep_alive { "keep-alive" } else { "close" };
            format!("complete {body} {conn}")
        }
        Ok(Status::Partial) => "partial".to_string(),
        Err(e) => format!("{:?} {}", e.kind, e.offset),
    }
}

#[test]
fn every_corpus_request_has_its_stated_outcome() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("corpus/requests exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "http"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "only {} corpus files", files.len());
    let mut checked = 0;
    for file in files {
        let input = std::fs::read(&file).unwrap();
        let expect = std::fs::read_to_string(file.with_extension("expect"))
            .unwrap_or_else(|_| panic!("{} has no .expect sidecar", file.display()));
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let expect = expect.trim();
        assert_eq!(describe(&input, false), expect, "{name} (whole)");
        assert_eq!(describe(&input, true), expect, "{name} (byte at a time)");
        assert_eq!(
            name.starts_with("valid--"),
            expect.starts_with("complete"),
            "{name}: the name's verdict and the sidecar disagree"
        );
        checked += 1;
    }
    println!("checked {checked} corpus requests");
}

/// A chunked body's outcome in the sidecar's words: `complete DATA_LEN` or
/// `ErrorKind OFFSET`, fed whole or a byte at a time.
fn describe_chunked(input: &[u8], byte_at_a_time: bool) -> String {
    let mut dec = h1parse::ChunkedDecoder::new();
    let mut data = 0;
    let mut fed = 0;
    let mut consumed = 0;
    while fed < input.len() {
        fed = if byte_at_a_time { fed + 1 } else { input.len() };
        loop {
            match dec.decode(&input[consumed..fed]) {
                Ok(c) => {
                    data += c.data.len();
                    consumed += c.consumed;
                    if c.done {
                        return format!("complete {data}");
                    }
                    if c.consumed == 0 || consumed == fed {
                        break;
                    }
                }
                Err(e) => return format!("{:?} {}", e.kind, e.offset),
            }
        }
    }
    "partial".to_string()
}

#[test]
fn every_corpus_chunked_body_has_its_stated_outcome() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/chunked");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("corpus/chunked exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "chunked"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "only {} chunked corpus files",
        files.len()
    );
    for file in files {
        let input = std::fs::read(&file).unwrap();
        let expect = std::fs::read_to_string(file.with_extension("expect"))
            .unwrap_or_else(|_| panic!("{} has no .expect sidecar", file.display()));
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let expect = expect.trim();
        assert_eq!(describe_chunked(&input, false), expect, "{name} (whole)");
        assert_eq!(
            describe_chunked(&input, true),
            expect,
            "{name} (byte at a time)"
        );
        assert_eq!(
            name.starts_with("valid--"),
            expect.starts_with("complete"),
            "{name}: the name's verdict and the sidecar disagree"
        );
    }
}
