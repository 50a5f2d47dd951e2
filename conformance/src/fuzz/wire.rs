//! One fuzz exchange on the wire, lean enough for tens of thousands a
//! second: connect, write the input (with its pauses) and the canary, and
//! read until the server closes, goes quiet, or the deadline passes.
//!
//! The fast path half-closes after writing: a server then answers what it
//! read and closes, so the exchange ends as soon as the server is done
//! instead of after an idle wait. What the half-close could change (a
//! server that drops requests when it sees our FIN, or takes long to
//! answer) is judged again on the slow path, which does not half-close and
//! waits the full idle time.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{sleep, timeout, Instant};

use super::gen::Input;
use crate::exchange::{End, Transcript};
use crate::transport::{self, Conn, Endpoint};

/// Stop reading past this many bytes: a fuzz exchange that gets more is
/// looping, and what came first is enough to judge.
const MAX_RECEIVED: usize = 4 << 20;

/// How to run one exchange.
#[derive(Debug, Clone, Copy)]
pub struct Wire {
    /// Connect timeout, and the longest one write may take.
    pub step: Duration,
    /// Stop when nothing arrived for this long.
    pub idle: Duration,
    /// Half-close after the last byte (the fast path).
    pub half_close: bool,
    /// Without the half-close: stop this long after the server has sent
    /// `expect` complete final responses, instead of waiting `idle`.
    pub grace: Option<(usize, Duration)>,
}

/// After this many confirmations that the half-close was what made a
/// server look wrong, a run stops half-closing.
pub const HALF_CLOSE_REFUTED: u64 = 20;

/// Why an exchange could not be made.
#[derive(Debug)]
pub struct ConnectError(pub std::io::Error);

/// Connects from a loopback source address of its own when the target is on
/// loopback. We half-close first, so every exchange leaves a TIME_WAIT
/// socket on our side; at tens of thousands of connections a second, with
/// one source address, finding a free ephemeral port among them became the
/// costliest part of an exchange (`perf`: a quarter of the fuzzer's CPU in
/// `__inet_hash_connect` and `__inet_check_established`). Spread over
/// 127.0.0.0/8, each address holds only a few.
///
/// Over TLS (`https://`), the handshake follows on the same stream.
async fn connect(addr: &str) -> std::io::Result<Conn> {
    let ep = Endpoint::parse(addr)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let tcp = connect_tcp(&ep.authority()).await?;
    let _ = tcp.set_nodelay(true);
    transport::secure(tcp, &ep).await
}

/// The TCP connection of [`connect`], from a loopback source address of
/// its own on loopback.
async fn connect_tcp(addr: &str) -> std::io::Result<TcpStream> {
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    match addr.parse::<SocketAddr>() {
        Ok(target @ SocketAddr::V4(v4)) if v4.ip().is_loopback() => {
            let n = NEXT.fetch_add(1, Ordering::Relaxed) % 65_000;
            let source = Ipv4Addr::new(127, 1 + (n >> 8) as u8, (n & 0xff) as u8, 1);
            let socket = tokio::net::TcpSocket::new_v4()?;
            if socket.bind(SocketAddr::new(IpAddr::V4(source), 0)).is_err() {
                return TcpStream::connect(target).await;
            }
            socket.connect(target).await
        }
        _ => TcpStream::connect(addr).await,
    }
}

/// Writes `input` then `canary`; returns what came back.
pub async fn exchange(
    addr: &str,
    input: &Input,
    canary: &[u8],
    wire: Wire,
) -> Result<Transcript, ConnectError> {
    let stream = match timeout(wire.step, connect(addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(ConnectError(e)),
        Err(_) => {
            return Err(ConnectError(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "connect timed out",
            )))
        }
    };
    // Plain TCP splits without a lock (the fuzzer's hot path); TLS
    // shares one session between the halves.
    let (sent, write_failed, half_closed, received, end) = match stream {
        Conn::Plain(tcp) => {
            let (rd, wr) = tcp.into_split();
            play(rd, wr, input, canary, wire).await
        }
        tls => {
            let (rd, wr) = tokio::io::split(tls);
            play(rd, wr, input, canary, wire).await
        }
    };
    Ok(Transcript {
        sent,
        received,
        end,
        write_failed,
        silence_broken: None,
        half_closed,
        await_missed: None,
        quiet_before_close: None,
    })
}

/// One exchange on a connection's halves: the bytes written, whether a
/// write failed, whether we half-closed, the bytes received and how the
/// connection ended.
async fn play<R, W>(
    mut rd: R,
    mut wr: W,
    input: &Input,
    canary: &[u8],
    wire: Wire,
) -> (Vec<u8>, bool, bool, Vec<u8>, End)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (sent, write_failed) = write_input(&mut wr, input, canary, wire.step).await;
    let mut half_closed = false;
    if wire.half_close && !write_failed {
        half_closed = wr.shutdown().await.is_ok();
    }
    let (received, end) = read_answers(&mut rd, &sent, wire).await;
    (sent, write_failed, half_closed, received, end)
}

/// Writes `input`, piece by piece with its pauses, and `canary` with the
/// last piece: the bytes written, and whether a write failed (or took
/// longer than `step`).
async fn write_input(
    wr: &mut (impl AsyncWrite + Unpin),
    input: &Input,
    canary: &[u8],
    step: Duration,
) -> (Vec<u8>, bool) {
    let mut sent = Vec::with_capacity(input.bytes.len() + canary.len());
    let mut write_failed = false;
    let mut from = 0;
    let pieces = input
        .splits
        .iter()
        .map(|(at, pause)| (*at, Some(*pause)))
        .chain(std::iter::once((input.bytes.len(), None)));
    // Reading starts only after writing: a server that answers early fills
    // our receive buffer, which holds far more than one fuzz exchange sends.
    for (at, pause) in pieces {
        let at = at.clamp(from, input.bytes.len());
        let mut piece = &input.bytes[from..at];
        let with_canary;
        if pause.is_none() {
            with_canary = [piece, canary].concat();
            piece = &with_canary;
        }
        from = at;
        if piece.is_empty() {
            continue;
        }
        // Flushed, so that over TLS each piece is a record of its own.
        let write = async {
            wr.write_all(piece).await?;
            wr.flush().await
        };
        match timeout(step, write).await {
            Ok(Ok(())) => sent.extend_from_slice(piece),
            _ => {
                write_failed = true;
                break;
            }
        }
        match pause {
            Some(p) if p.is_zero() => tokio::task::yield_now().await,
            Some(p) => sleep(p).await,
            None => {}
        }
    }
    (sent, write_failed)
}

/// Reads what the server sends until it closes or resets, goes quiet for
/// `wire.idle` (or the grace once it has answered `sent`), sends more than
/// [`MAX_RECEIVED`], or ten idle times have passed: the bytes, and how the
/// connection ended.
async fn read_answers(
    rd: &mut (impl AsyncRead + Unpin),
    sent: &[u8],
    wire: Wire,
) -> (Vec<u8>, End) {
    let mut received = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let deadline = Instant::now() + wire.idle * 10;
    let mut idle = wire.idle;
    let end = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || received.len() >= MAX_RECEIVED {
            break End::Open;
        }
        match timeout(idle.min(left), rd.read(&mut chunk)).await {
            Err(_) => break End::Open,
            Ok(Ok(0)) => break End::Closed,
            Ok(Ok(n)) => {
                received.extend_from_slice(&chunk[..n]);
                if let Some((expect, grace)) = wire.grace {
                    if crate::observe::complete_finals(sent, &received) >= expect {
                        idle = grace;
                    }
                }
            }
            Ok(Err(_)) => break End::Reset,
        }
    };
    (received, end)
}
