//! The HTTP layer's own refusals as problem+json.
//!
//! actix-http answers a request it cannot parse before any route or middleware
//! runs: `431` for a head over 128 KiB or with more than 96 headers, `400` for
//! a malformed request line, header or body framing (bytes that are not URL
//! characters in the path included), `408` for a head that never finished. It
//! writes those with an empty body and closes the connection, and it has no hook
//! to change them. So each connection's socket is wrapped, and a bodiless error
//! response written to it is replaced by the same status with an RFC 9457 body.
//! The service's own errors always carry a body (`problem::problem_for_any_error`
//! makes sure), so only the HTTP layer's are ever replaced.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use actix_web::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::problem::Problem;

/// A connection whose bodiless error responses become problem+json.
pub struct ProblemIo<T> {
    inner: T,
    /// A replacement being written: its bytes, how many are written, and how
    /// many bytes of the caller's buffer it stands for.
    replacing: Option<(Vec<u8>, usize, usize)>,
}

impl<T> ProblemIo<T> {
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            replacing: None,
        }
    }
}

impl<T: AsyncWrite + Unpin> ProblemIo<T> {
    /// Writes what is left of a replacement; `Ready(n)` once it is all out,
    /// `n` being the length of the buffer it replaced.
    fn poll_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        while let Some((bytes, written, stands_for)) = &mut self.replacing {
            if *written == bytes.len() {
                let stands_for = *stands_for;
                self.replacing = None;
                return Poll::Ready(Ok(stands_for));
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(0))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ProblemIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ProblemIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.replacing.is_none() {
            match with_problem_body(buf) {
                Some(replacement) => this.replacing = Some((replacement, 0, buf.len())),
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
            }
        }
        this.poll_replacement(cx)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.replacing.is_some() {
            ready!(this.poll_replacement(cx))?;
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.replacing.is_some() {
            ready!(this.poll_replacement(cx))?;
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// Longer than any head actix-http writes for a bodiless error.
const MAX_BARE_HEAD: usize = 1024;

/// If `written` is exactly one bodiless 4xx/5xx response, the same response
/// with a problem+json body.
fn with_problem_body(written: &[u8]) -> Option<Vec<u8>> {
    // Cheap refusal first: every write of every response passes here, and a
    // bare error head is a few hundred bytes.
    if written.len() > MAX_BARE_HEAD || !written.starts_with(b"HTTP/1.") {
        return None;
    }
    let head_end = written.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    if head_end != written.len() {
        return None;
    }
    let head = std::str::from_utf8(&written[..head_end - 4]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let code: u16 = status_line
        .strip_prefix("HTTP/1.")?
        .get(2..5)?
        .parse()
        .ok()?;
    let status = StatusCode::from_u16(code).ok()?;
    let headers: Vec<&str> = lines.collect();
    let bodiless = headers
        .iter()
        .any(|h| h.eq_ignore_ascii_case("content-length: 0"));
    if !(status.is_client_error() || status.is_server_error()) || !bodiless {
        return None;
    }
    let body = serde_json::to_vec(&Problem::of_status(status, why(status))).ok()?;
    let mut response = format!("{status_line}\r\n");
    for header in headers.iter().filter(|h| {
        let name = h.split(':').next().unwrap_or("");
        !name.eq_ignore_ascii_case("content-length") && !name.eq_ignore_ascii_case("content-type")
    }) {
        response.push_str(header);
        response.push_str("\r\n");
    }
    response.push_str(&format!(
        "content-type: application/problem+json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    ));
    let mut bytes = response.into_bytes();
    bytes.extend_from_slice(&body);
    Some(bytes)
}

fn why(status: StatusCode) -> String {
    match status {
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
            "the request head is over 128 KiB or has more than 96 headers".into()
        }
        StatusCode::BAD_REQUEST => "the request is not valid HTTP/1.1: its request line (a path \
            must be URL characters; percent-encode the rest), a header or the body's framing is malformed"
            .into(),
        StatusCode::REQUEST_TIMEOUT => "the request head did not arrive in time".into(),
        other => Problem::of_status(other, "").title,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bodiless_431_gets_a_problem_body_and_keeps_its_other_headers() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\ndate: Tue, 01 Dec 2026 22:00:00 GMT\r\n\r\n";
        let replaced = String::from_utf8(with_problem_body(bare).unwrap()).unwrap();
        let (head, body) = replaced.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 "), "{head}");
        assert!(
            head.contains("connection: close") && head.contains("date: "),
            "{head}"
        );
        assert!(
            head.contains("content-type: application/problem+json"),
            "{head}"
        );
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{head}"
        );
        let problem: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(problem["status"], 431);
        assert_eq!(
            problem["type"],
            "https://ercs.example/problems/request-header-fields-too-large"
        );
    }

    #[test]
    fn responses_with_a_body_or_without_an_error_pass_unchanged() {
        for written in [
            &b"HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n{}"[..],
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\nHTTP/1.1 200 OK\r\n",
            b"{\"partial\": \"body\"}",
        ] {
            assert_eq!(
                with_problem_body(written),
                None,
                "{:?}",
                String::from_utf8_lossy(written)
            );
        }
    }
}
