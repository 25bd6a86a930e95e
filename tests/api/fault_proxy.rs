//! A fault-injecting HTTP/1.1 proxy between the service's DynamoDB client and moto.
//!
//! It reads each request (head and `Content-Length` body), then, by the mode in force,
//! forwards it to moto on a fresh connection, delays it, never answers it, cuts the
//! connection with a TCP reset, or answers as a throttling DynamoDB does. It counts requests
//! and records each one's `X-Amz-Target` (`DynamoDB_20120810.PutItem`, …), so a fault can
//! start at a given operation: "everything after the PutItem fails" is how a register is cut
//! between its write and its evictions.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward to moto unchanged.
    Pass,
    /// Accept the request and never answer (the connection stays open until the client gives up).
    Stall,
    /// Forward after a delay.
    Slow(Duration),
    /// Close the connection with a TCP reset instead of answering.
    Reset,
    /// Answer `400 ProvisionedThroughputExceededException`, as DynamoDB does when throttling.
    Throttle,
}

/// When the armed fault starts.
#[derive(Debug, Clone)]
enum Trigger {
    /// Every request after the first `n` for this operation (which themselves pass).
    AfterOp(String, usize),
}

#[derive(Default)]
struct State {
    /// The fault every request gets now; `None` means pass.
    active: Option<Fault>,
    /// A fault waiting for its trigger.
    armed: Option<(Trigger, Fault)>,
    operations: Vec<String>,
}

pub struct FaultProxy {
    addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
    requests: Arc<AtomicUsize>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

const THROTTLE_BODY: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded. (injected by the test fault proxy)"}"#;

impl FaultProxy {
    /// Listen on a free loopback port and forward to `upstream` (`http://host:port`).
    pub async fn start(upstream: &str) -> Self {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let requests = Arc::new(AtomicUsize::new(0));
        let accept = {
            let state = state.clone();
            let requests = requests.clone();
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let state = state.clone();
                    let requests = requests.clone();
                    let upstream = upstream.clone();
                    tokio::spawn(async move {
                        let _ = connection(stream, &upstream, &state, &requests).await;
                    });
                }
            })
        };
        Self {
            addr,
            state,
            requests,
            accept,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request from now on gets `fault` (`Fault::Pass` ends a fault).
    pub fn set(&self, fault: Fault) {
        let mut state = self.state.lock().unwrap();
        state.armed = None;
        state.active = (fault != Fault::Pass).then_some(fault);
    }

    /// The first request for `op` passes; every request after it gets `fault`.
    pub fn fault_after_op(&self, op: &str, fault: Fault) {
        let mut state = self.state.lock().unwrap();
        state.active = None;
        state.armed = Some((Trigger::AfterOp(op.to_owned(), 1), fault));
    }

    /// As [`Self::fault_after_op`], once `n` requests for `op` have passed: a request whose
    /// writes of that operation go out together (a register's device and person items).
    pub fn fault_after_ops(&self, op: &str, n: usize, fault: Fault) {
        let mut state = self.state.lock().unwrap();
        state.active = None;
        state.armed = Some((Trigger::AfterOp(op.to_owned(), n), fault));
    }

    /// Requests seen so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// The operation of every request seen so far (`PutItem`, `Query`, …), in order.
    pub fn operations(&self) -> Vec<String> {
        self.state.lock().unwrap().operations.clone()
    }
}

fn decide(state: &Mutex<State>, op: &str) -> Fault {
    let mut state = state.lock().unwrap();
    state.operations.push(op.to_owned());
    if let Some(fault) = state.active {
        return fault;
    }
    match state.armed.clone() {
        Some((Trigger::AfterOp(target, n), fault)) if target == op => {
            if n <= 1 {
                state.armed = None;
                state.active = Some(fault);
            } else {
                state.armed = Some((Trigger::AfterOp(target, n - 1), fault));
            }
            Fault::Pass
        }
        _ => Fault::Pass,
    }
}

/// One request read off a connection: the raw head, the body, and the operation name.
struct Request {
    head: Vec<u8>,
    body: Vec<u8>,
    op: String,
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Read one request; `None` when the client closed the connection.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
    let head_end = loop {
        if let Some(end) = find_head_end(buf) {
            break end;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = buf[..head_end].to_vec();
    let head_text = String::from_utf8_lossy(&head).into_owned();
    let length: usize = header(&head_text, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[head_end..head_end + length].to_vec();
    buf.drain(..head_end + length);
    let op = header(&head_text, "x-amz-target")
        .map(|t| t.rsplit('.').next().unwrap_or(t).to_owned())
        .unwrap_or_default();
    Some(Request { head, body, op })
}

/// Send the request to moto on a fresh connection (asking it to close after), read the whole
/// response, and return it without its `Connection` header so the client keeps its own
/// connection to the proxy.
async fn forward(upstream: &str, request: &Request) -> std::io::Result<Vec<u8>> {
    let mut conn = TcpStream::connect(upstream).await?;
    let head = String::from_utf8_lossy(&request.head);
    let mut out = String::new();
    for (i, line) in head.split("\r\n").enumerate() {
        if line.is_empty() {
            continue;
        }
        if i > 0 && line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    conn.write_all(out.as_bytes()).await?;
    conn.write_all(&request.body).await?;
    let mut response = Vec::new();
    conn.read_to_end(&mut response).await?;
    let head_end = find_head_end(&response).unwrap_or(response.len());
    let head = String::from_utf8_lossy(&response[..head_end]).into_owned();
    let body = &response[head_end..];
    let mut fixed = String::new();
    let mut has_length = false;
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("connection:") {
            continue;
        }
        has_length |= lower.starts_with("content-length:");
        fixed.push_str(line);
        fixed.push_str("\r\n");
    }
    if !has_length {
        fixed.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    fixed.push_str("\r\n");
    let mut bytes = fixed.into_bytes();
    bytes.extend_from_slice(body);
    Ok(bytes)
}

fn throttle_response() -> Vec<u8> {
    format!(
        "HTTP/1.1 400 Bad Request\r\n\
         Content-Type: application/x-amz-json-1.0\r\n\
         x-amzn-ErrorType: ProvisionedThroughputExceededException\r\n\
         x-amzn-RequestId: FAULTPROXY0000000000000000000000000000000000000000000\r\n\
         Content-Length: {}\r\n\r\n{THROTTLE_BODY}",
        THROTTLE_BODY.len()
    )
    .into_bytes()
}

async fn connection(
    mut stream: TcpStream,
    upstream: &str,
    state: &Mutex<State>,
    requests: &AtomicUsize,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    while let Some(request) = read_request(&mut stream, &mut buf).await {
        requests.fetch_add(1, Ordering::SeqCst);
        match decide(state, &request.op) {
            Fault::Pass => {
                let response = forward(upstream, &request).await?;
                stream.write_all(&response).await?;
            }
            Fault::Slow(delay) => {
                // Wall time on purpose: the store client's timeouts are what is tested.
                tokio::time::sleep(delay).await;
                let response = forward(upstream, &request).await?;
                stream.write_all(&response).await?;
            }
            Fault::Throttle => stream.write_all(&throttle_response()).await?,
            Fault::Stall => {
                // Hold the connection, answering nothing, until the client hangs up.
                let mut sink = [0u8; 1024];
                while stream.read(&mut sink).await.unwrap_or(0) > 0 {}
                return Ok(());
            }
            Fault::Reset => {
                // SO_LINGER 0: close sends RST, as a dropped connection or a dead node does.
                #[allow(deprecated)]
                stream.set_linger(Some(Duration::ZERO))?;
                return Ok(());
            }
        }
    }
    Ok(())
}
