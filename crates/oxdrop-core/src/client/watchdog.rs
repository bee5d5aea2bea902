//! Noticing a stalled connection on every request. A connection can die silently in the middle
//! (a NAT entry dropped, a laptop lid closed, a proxy frozen): the socket stays open, nothing
//! moves, nothing fails. So every request is watched: while its body goes out, the connection
//! must take a piece of it every `stall` (the body is handed over in pieces of at most
//! [`PIECE`] bytes, and the watch notes each one taken); once it is out, the answer must start
//! within the request's answer bound. Either silence ends the request as a timeout, which the
//! callers retry.
//!
//! The cost on the data path is one clock read and one atomic store per piece (256 KiB), and
//! one timer per request, never per byte.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::Instant;

/// The largest piece of a body handed to the connection at once. A body of at most this size
/// goes out in one write, which the socket's buffer takes whole: only its answer is watched.
pub(super) const PIECE: usize = 256 << 10;

/// How long an answer may take to start once the body is out.
#[derive(Clone, Copy)]
pub(crate) struct AnswerWait<'a> {
    pub within: Duration,
    /// A longer bound, taken when `within` runs out while this says the server may be working
    /// silently (the part that completes a file).
    pub longer: Option<(Duration, &'a (dyn Fn() -> bool + Sync))>,
}

impl AnswerWait<'_> {
    pub(crate) fn within(within: Duration) -> AnswerWait<'static> {
        AnswerWait {
            within,
            longer: None,
        }
    }

    fn bound(&self) -> Duration {
        match self.longer {
            Some((longer, working)) if working() => longer.max(self.within),
            _ => self.within,
        }
    }
}

/// Where a request was when it stalled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stall {
    /// The connection stopped taking the body.
    Sending,
    /// The body is out; no answer came.
    Answering,
}

/// The last moment the connection took a piece of the body, and whether the body is all out.
#[derive(Debug)]
pub(crate) struct Watch {
    origin: Instant,
    last_ms: AtomicU64,
    body_out: AtomicBool,
}

impl Watch {
    fn new(body_out: bool) -> Arc<Watch> {
        Arc::new(Watch {
            origin: Instant::now(),
            last_ms: AtomicU64::new(0),
            body_out: AtomicBool::new(body_out),
        })
    }

    fn touch(&self) {
        let now = self.origin.elapsed().as_millis() as u64;
        self.last_ms.store(now, Ordering::Relaxed);
    }

    fn body_out(&self) {
        self.touch();
        self.body_out.store(true, Ordering::Relaxed);
    }

    /// Resolves when the request stalls: no piece taken for `stall` while sending, or no answer
    /// within `answer` after the body went out. Pending forever otherwise (the caller races it
    /// against the request).
    pub(crate) async fn stalled(&self, stall: Duration, answer: AnswerWait<'_>) -> Stall {
        loop {
            let out = self.body_out.load(Ordering::Relaxed);
            let (bound, phase) = if out {
                (answer.bound(), Stall::Answering)
            } else {
                (stall, Stall::Sending)
            };
            let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
            let due = self.origin + last + bound;
            if Instant::now() >= due {
                return phase;
            }
            tokio::time::sleep_until(due).await;
        }
    }
}

/// Puts the request's body under watch and returns the watch. A body small enough for one write
/// (or none) counts as out at once.
pub(crate) fn watch_request(req: &mut reqwest::Request) -> Arc<Watch> {
    let small = match req.body() {
        None => true,
        Some(body) => body.as_bytes().is_some_and(|b| b.len() <= PIECE),
    };
    if small {
        return Watch::new(true);
    }
    let declared = req
        .headers()
        .get(reqwest::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let watch = Watch::new(false);
    if let Some(body) = req.body_mut().take() {
        let left = declared.or_else(|| body.size_hint().exact());
        *req.body_mut() = Some(reqwest::Body::wrap(WatchedBody {
            inner: body,
            rest: None,
            left,
            watch: watch.clone(),
        }));
    }
    watch
}

/// A request body handed out in pieces of at most [`PIECE`] bytes (slices of the same buffers,
/// nothing copied), each noted on the watch as the connection takes it.
struct WatchedBody {
    inner: reqwest::Body,
    /// What is left of a frame larger than a piece.
    rest: Option<Bytes>,
    /// Bytes still to hand out, when the length is known: the body is out when the last one is
    /// taken, whether or not the connection asks for the end of the stream.
    left: Option<u64>,
    watch: Arc<Watch>,
}

impl WatchedBody {
    fn hand_out(&mut self, mut data: Bytes) -> Poll<Option<Result<Frame<Bytes>, reqwest::Error>>> {
        if data.len() > PIECE {
            self.rest = Some(data.split_off(PIECE));
        }
        if let Some(left) = self.left.as_mut() {
            *left = left.saturating_sub(data.len() as u64);
        }
        if self.left == Some(0) || self.is_end_stream() {
            self.watch.body_out();
        } else {
            self.watch.touch();
        }
        Poll::Ready(Some(Ok(Frame::data(data))))
    }
}

impl Body for WatchedBody {
    type Data = Bytes;
    type Error = reqwest::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Some(rest) = this.rest.take() {
            return this.hand_out(rest);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                Ok(data) => this.hand_out(data),
                Err(other) => {
                    this.watch.touch();
                    Poll::Ready(Some(Ok(other)))
                }
            },
            Poll::Ready(None) => {
                this.watch.body_out();
                Poll::Ready(None)
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let held = self.rest.as_ref().map_or(0, |r| r.len() as u64);
        let inner = self.inner.size_hint();
        let mut hint = SizeHint::new();
        hint.set_lower(inner.lower() + held);
        if let Some(upper) = inner.upper() {
            hint.set_upper(upper + held);
        }
        hint
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_watch_fires_on_silence_and_waits_while_pieces_move() {
        let ms = Duration::from_millis;
        let (stall, answer) = (ms(300), AnswerWait::within(ms(600)));
        let watch = Watch::new(false);
        let w = watch.clone();
        let mover = tokio::spawn(async move {
            for _ in 0..5 {
                tokio::time::sleep(ms(150)).await;
                w.touch();
            }
            w.body_out();
        });
        let started = Instant::now();
        assert_eq!(watch.stalled(stall, answer).await, Stall::Answering);
        // 750 ms of pieces, each within the stall bound, then the answer's bound.
        let took = started.elapsed();
        assert!(took >= ms(1350) && took < ms(2500), "{took:?}");
        mover.await.unwrap();
        let silent = Watch::new(false);
        let started = Instant::now();
        assert_eq!(silent.stalled(stall, answer).await, Stall::Sending);
        assert!(started.elapsed() < ms(600));

        // The longer bound holds only while the caller says the server may be working.
        let working = std::sync::atomic::AtomicBool::new(true);
        let check = || working.load(Ordering::Relaxed);
        let answer = AnswerWait {
            within: ms(200),
            longer: Some((ms(900), &check)),
        };
        let started = Instant::now();
        assert_eq!(
            Watch::new(true).stalled(stall, answer).await,
            Stall::Answering
        );
        assert!(started.elapsed() >= ms(900), "{:?}", started.elapsed());
        working.store(false, Ordering::Relaxed);
        let started = Instant::now();
        assert_eq!(
            Watch::new(true).stalled(stall, answer).await,
            Stall::Answering
        );
        assert!(started.elapsed() < ms(600), "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn big_frames_go_out_in_pieces_and_small_bodies_are_left_alone() {
        use http_body_util::BodyExt;
        let big = Bytes::from(vec![7u8; PIECE * 3 + 5]);
        let mut req = reqwest::Request::new(
            reqwest::Method::PUT,
            "http://127.0.0.1:1/x".parse().unwrap(),
        );
        *req.body_mut() = Some(reqwest::Body::from(big.clone()));
        let watch = watch_request(&mut req);
        assert!(!watch.body_out.load(Ordering::Relaxed));
        let mut body = req.body_mut().take().unwrap();
        assert_eq!(body.size_hint().exact(), Some(big.len() as u64));
        let mut sizes = Vec::new();
        let mut all = Vec::new();
        while let Some(frame) = body.frame().await {
            let data = frame.unwrap().into_data().unwrap();
            sizes.push(data.len());
            all.extend_from_slice(&data);
        }
        assert_eq!(sizes, vec![PIECE, PIECE, PIECE, 5]);
        assert_eq!(all, big);
        assert!(watch.body_out.load(Ordering::Relaxed));

        let mut small = reqwest::Request::new(
            reqwest::Method::POST,
            "http://127.0.0.1:1/x".parse().unwrap(),
        );
        *small.body_mut() = Some(reqwest::Body::from("{}"));
        let watch = watch_request(&mut small);
        assert!(watch.body_out.load(Ordering::Relaxed));
        assert_eq!(small.body().and_then(|b| b.as_bytes()), Some(&b"{}"[..]));
    }
}
