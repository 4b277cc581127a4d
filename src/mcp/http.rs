//! `prodcode mcp --http ADDR`: rmcp's streamable HTTP service at `/mcp`, on a loopback address,
//! over hyper's HTTP/1.
//!
//! Protection against other programs on the machine and against web pages:
//! - Only loopback addresses are accepted ([`check_loopback`]): anyone who can reach the port can
//!   run the project's commands through the tools.
//! - rmcp refuses requests whose `Host` is not a loopback name (`localhost`, `127.0.0.1`, `::1`,
//!   plus the address served), with 403: that defeats DNS rebinding, where a web page's own host
//!   name resolves to 127.0.0.1.
//! - Requests carrying an `Origin` header are refused (403): agents do not send one, browsers
//!   always do on cross-origin requests, so no web page can drive the tools. (rmcp leaves Origin
//!   unchecked unless told otherwise.)
//!
//! The server stops when its stdin, a pipe or a terminal, reaches end of file; SIGINT and SIGTERM
//! end the process (no handler is installed).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use anyhow::Context;
use hyper::body::Incoming;
use hyper::body::{Body, Bytes, Frame, SizeHint};
use hyper::header::ORIGIN;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rmcp::transport::StreamableHttpService;
use rmcp::transport::streamable_http_server::StreamableHttpServerConfig;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;

use super::screen::{Screened, screen};
use super::server::Server;

/// The path the MCP endpoint is served at.
pub(super) const PATH: &str = "/mcp";

/// Refuses `addr` unless it is a loopback address (`serve_http` checks it too; a front may check
/// before it opens anything).
pub fn check_loopback(addr: SocketAddr) -> anyhow::Result<()> {
    if addr.ip().is_loopback() {
        return Ok(());
    }
    anyhow::bail!(
        "refusing to serve MCP on {addr}: the tools run this project's commands, so serving them \
         beyond this machine would let anyone who reaches the port run code here; use a loopback \
         address such as 127.0.0.1:{port} or [::1]:{port}",
        port = addr.port()
    )
}

/// Serves `server` at `http://addr/mcp` until stdin closes.
pub(super) async fn serve(server: Server, addr: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener
        .local_addr()
        .with_context(|| format!("cannot read the address bound for {addr}"))?;
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(allowed_hosts(local))
        .enforce_origin_validation();
    let stop = config.cancellation_token.clone();
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    // Tests and scripts wait for this line (and read the port of `:0` from it).
    eprintln!("prodcode mcp: listening on http://{local}{PATH}");
    let stdin_closed = stdin_closed();
    tokio::pin!(stdin_closed);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(connection(service.clone(), stream));
                }
                Err(error) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!("cannot accept an MCP connection: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            () = &mut stdin_closed => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    stop.cancel();
    Ok(())
}

/// The `Host` names rmcp accepts: the loopback names and the address served.
fn allowed_hosts(local: SocketAddr) -> Vec<String> {
    let mut hosts = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    let ip = local.ip().to_string();
    if !hosts.contains(&ip) {
        hosts.push(ip);
    }
    hosts
}

type McpService = StreamableHttpService<Server, LocalSessionManager>;

/// Serves one HTTP/1 connection: `/mcp` to rmcp, anything else 404.
async fn connection(service: McpService, stream: tokio::net::TcpStream) {
    let handler = hyper::service::service_fn(move |request: Request<Incoming>| {
        let service = service.clone();
        async move {
            if request.uri().path() != PATH {
                return Ok::<_, Infallible>(not_found());
            }
            // Browsers send `Origin` with every POST and rmcp refuses those; screening them
            // first would answer a web page. Other POSTs are screened so that a request rmcp
            // cannot deserialize is answered with its id rather than a bare 415.
            if request.method() != hyper::Method::POST || request.headers().contains_key(ORIGIN) {
                return Ok(service.handle(request).await.map(Routed::Mcp));
            }
            let (parts, body) = request.into_parts();
            let body = match collect(body).await {
                Ok(body) => body,
                Err(response) => return Ok(response),
            };
            if let Screened::Answer(answer) = screen(&body) {
                return Ok(json_answer(&answer));
            }
            let request = Request::from_parts(parts, Routed::<Incoming>::Plain(Some(body)));
            Ok(service.handle(request).await.map(Routed::Mcp))
        }
    });
    if let Err(error) = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), handler)
        .await
    {
        tracing::debug!("MCP HTTP connection ended: {error}");
    }
}

/// The largest request body read (rmcp's own default limit).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// The whole body of a request, or the response that refuses it.
async fn collect<B>(mut body: Incoming) -> Result<Bytes, Response<Routed<B>>> {
    let mut collected = Vec::new();
    loop {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        match frame {
            None => return Ok(Bytes::from(collected)),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    if collected.len() + data.len() > MAX_BODY {
                        return Err(plain(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            format!("Payload Too Large: the limit is {MAX_BODY} bytes\n"),
                        ));
                    }
                    collected.extend_from_slice(&data);
                }
            }
            Some(Err(error)) => {
                return Err(plain(
                    StatusCode::BAD_REQUEST,
                    format!("cannot read the request body: {error}\n"),
                ));
            }
        }
    }
}

/// A JSON-RPC answer made by [`screen`], as rmcp sends its own: 400 with a JSON body.
fn json_answer<B>(answer: &rmcp::model::ServerJsonRpcMessage) -> Response<Routed<B>> {
    let body = serde_json::to_vec(answer).unwrap_or_default();
    let mut response = Response::new(Routed::Plain(Some(Bytes::from(body))));
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

fn plain<B>(status: StatusCode, text: String) -> Response<Routed<B>> {
    let mut response = Response::new(Routed::Plain(Some(Bytes::from(text))));
    *response.status_mut() = status;
    response
}

fn not_found<B>() -> Response<Routed<B>> {
    let mut response = Response::new(Routed::Plain(Some(Bytes::from_static(
        b"Not Found: the MCP endpoint is /mcp\n",
    ))));
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

/// A response body: rmcp's, or a short text of our own.
enum Routed<B> {
    Mcp(B),
    Plain(Option<Bytes>),
}

impl<B> Body for Routed<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.get_mut() {
            Routed::Mcp(body) => Pin::new(body).poll_frame(cx),
            Routed::Plain(text) => Poll::Ready(text.take().map(|text| Ok(Frame::data(text)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Routed::Mcp(body) => body.is_end_stream(),
            Routed::Plain(text) => text.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Routed::Mcp(body) => body.size_hint(),
            Routed::Plain(text) => {
                SizeHint::with_exact(text.as_ref().map_or(0, |t| t.len() as u64))
            }
        }
    }
}

/// Resolves when stdin reaches end of file; never when stdin is not a pipe, socket or terminal
/// (`/dev/null`, a file), where end of file says nothing about wanting the server to stop.
async fn stdin_closed() {
    if !stdin_can_close() {
        return std::future::pending().await;
    }
    let (closed, wait) = tokio::sync::oneshot::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("mcp-stdin".to_owned())
        .spawn(move || {
            let mut buffer = [0u8; 4096];
            let mut stdin = std::io::stdin().lock();
            loop {
                match std::io::Read::read(&mut stdin, &mut buffer) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = closed.send(());
        });
    match spawned {
        Ok(_) => {
            let _ = wait.await;
        }
        Err(error) => {
            tracing::warn!("cannot watch stdin ({error}); stop the server with a signal");
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(unix)]
fn stdin_can_close() -> bool {
    use std::io::IsTerminal;
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileTypeExt;

    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return true;
    }
    let Ok(fd) = stdin.as_fd().try_clone_to_owned() else {
        return false;
    };
    std::fs::File::from(fd)
        .metadata()
        .is_ok_and(|meta| meta.file_type().is_fifo() || meta.file_type().is_socket())
}

#[cfg(not(unix))]
fn stdin_can_close() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_are_served() {
        for ok in ["127.0.0.1:0", "127.0.0.2:8765", "[::1]:8765"] {
            assert!(check_loopback(ok.parse().unwrap()).is_ok(), "{ok}");
        }
        for refused in [
            "0.0.0.0:1234",
            "[::]:1234",
            "192.168.1.10:80",
            "8.8.8.8:443",
        ] {
            let error = check_loopback(refused.parse().unwrap()).unwrap_err();
            assert!(
                error.to_string().contains("use a loopback address"),
                "{refused}: {error}"
            );
        }
    }

    #[test]
    fn the_address_served_is_an_allowed_host() {
        assert_eq!(
            allowed_hosts("127.0.0.2:1".parse().unwrap()),
            ["localhost", "127.0.0.1", "::1", "127.0.0.2"]
        );
        assert_eq!(
            allowed_hosts("[::1]:1".parse().unwrap()),
            ["localhost", "127.0.0.1", "::1"]
        );
    }
}
