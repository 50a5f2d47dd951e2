//! h1parse against httparse on the same bytes. Where they disagree, the
//! difference must be one that DESIGN.md's strictness list explains; any
//! other difference is a finding and aborts.
#![no_main]

use h1parse::{ErrorKind, Header, RequestParser, Status};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut ours_h = [Header::EMPTY; 64];
    let ours = RequestParser::new().parse(data, &mut ours_h);
    let mut theirs_h = [httparse::EMPTY_HEADER; 64];
    let mut theirs_req = httparse::Request::new(&mut theirs_h);
    let theirs = theirs_req.parse(data);

    match (ours, theirs) {
        (Ok(Status::Complete(r)), Ok(httparse::Status::Complete(n))) => {
            // Both accept: they must see the same message.
            assert_eq!(r.head_len, n);
            let head = r.head(data, &ours_h);
            assert_eq!(head.method(), theirs_req.method.unwrap().as_bytes());
            assert_eq!(head.target(), theirs_req.path.unwrap().as_bytes());
            assert_eq!(r.minor, theirs_req.version.unwrap());
            let a: Vec<(&[u8], &[u8])> = head.headers().collect();
            let b: Vec<(&[u8], &[u8])> = theirs_req
                .headers
                .iter()
                .map(|h| (h.name.as_bytes(), h.value))
                .collect();
            assert_eq!(a, b);
        }
        (Ok(Status::Complete(r)), Err(e)) => {
            // We accept, httparse refuses: only HTTP/1.2..1.9 (RFC 9110 §2.5).
            assert!(
                e == httparse::Error::Version && r.minor >= 2,
                "httparse {e:?} on a head we accept"
            );
        }
        (Ok(Status::Complete(_)), Ok(httparse::Status::Partial)) => {
            panic!("we completed a head httparse finds partial");
        }
        (Ok(Status::Partial), Ok(httparse::Status::Complete(_))) => {
            panic!("httparse completed a head we find partial");
        }
        (Err(e), Ok(httparse::Status::Complete(_))) => {
            // httparse accepts, we refuse: the strictness list must explain it.
            let path = theirs_req.path.unwrap().as_bytes();
            let explained = match e.kind {
                // framing and Host rules httparse leaves to its caller
                ErrorKind::MissingHost
                | ErrorKind::DuplicateHost
                | ErrorKind::InvalidHost
                | ErrorKind::InvalidContentLength
                | ErrorKind::ConflictingContentLength
                | ErrorKind::ContentLengthWithTransferEncoding
                | ErrorKind::InvalidTransferEncoding
                | ErrorKind::UnsupportedTransferCoding
                | ErrorKind::TransferEncodingInHttp10 => true,
                // httparse accepts bare LF line endings; we do only when asked
                ErrorKind::BareLf => data.contains(&b'\n'),
                // non-ASCII targets, fragments, target forms that do not fit the
                // method, and absolute-form authorities that break Host's rule
                // (userinfo, empty host, bad port or IP-literal: RFC 9110 §4.2)
                ErrorKind::InvalidTarget => {
                    path.iter().any(|&b| b >= 0x80 || b == b'#')
                        || !path.starts_with(b"/")
                        || theirs_req.method == Some("CONNECT")
                }
                // limits httparse does not have
                ErrorKind::HeaderSectionTooLarge
                | ErrorKind::UriTooLong
                | ErrorKind::HeaderLineTooLong => true,
                _ => false,
            };
            assert!(explained, "unexplained rejection {e:?}");
        }
        _ => {}
    }
});
