//! `def run --metrics-listen ADDR`: the run's Prometheus metrics over HTTP.
//!
//! A plain `std::net` listener on a thread of its own, answering one request at a time: a
//! scrape every few seconds needs no more, and so `--metrics-listen` works in every build,
//! without the async runtime that the backend's HTTP server (feature `backend`) brings. Each
//! connection gets `GET /metrics` (also `HEAD`), `GET /` a pointer to it, 404 for other paths
//! and 405 for other methods, then is closed; a client that does not send its request within
//! [`READ_TIMEOUT`] is dropped so it cannot hold the listener up.

use def::metrics::RunMetrics;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// How long a connection may take to send its request (and to take the answer).
const READ_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest request head read; the rest is ignored.
const MAX_HEAD: usize = 8 * 1024;

/// Binds `addr` and serves `metrics` from a background thread for the rest of the process.
/// Returns the address bound (with the port chosen when `addr` asks for port 0).
///
/// # Errors
/// The address cannot be bound (in use, not an address of this machine, not an address).
pub fn serve(addr: &str, metrics: RunMetrics) -> Result<SocketAddr, String> {
    let listener = TcpListener::bind(addr)
        .map_err(|e| format!("cannot listen on `{addr}` for metrics: {e}"))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot listen on `{addr}` for metrics: {e}"))?;
    std::thread::Builder::new()
        .name("def-metrics".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                // A client that goes away mid-answer is its own problem.
                let _ = answer(stream, &metrics);
            }
        })
        .map_err(|e| format!("cannot start the metrics thread: {e}"))?;
    Ok(local)
}

fn answer(mut stream: TcpStream, metrics: &RunMetrics) -> std::io::Result<()> {
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    stream.set_write_timeout(Some(READ_TIMEOUT))?;
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let (status, content_type, body) = match (method, path) {
        ("GET" | "HEAD", "/metrics") => ("200 OK", def::metrics::CONTENT_TYPE, metrics.render()),
        ("GET" | "HEAD", "/") => (
            "200 OK",
            "text/plain; charset=utf-8",
            "def run: the run's metrics are at /metrics\n".to_string(),
        ),
        ("GET" | "HEAD", _) => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "not found: the metrics are at /metrics\n".to_string(),
        ),
        _ => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "only GET /metrics\n".to_string(),
        ),
    };
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    if method != "HEAD" {
        response.push_str(&body);
    }
    stream.write_all(response.as_bytes())?;
    stream.flush()
}
