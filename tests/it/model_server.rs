//! A scripted model server on loopback, for driving the real agent CLIs (Claude Code, Codex)
//! without a network: HTTP/1.1, one request per connection, JSON or server-sent events, every
//! request recorded. What it answers is the test's closure, called with each request.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// A request as the server read it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// The body as JSON (`Value::Null` when empty or not JSON).
    pub body: Value,
}

pub enum Response {
    Json(u16, Value),
    /// Server-sent events: `(event name, data)`; a `None` name sends `data:` lines only.
    Events(Vec<(Option<String>, Value)>),
}

type Handler = dyn Fn(&Request) -> Response + Send + Sync;

pub struct ModelServer {
    pub port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl ModelServer {
    pub fn start(handler: impl Fn(&Request) -> Response + Send + Sync + 'static) -> ModelServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let recorded = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let handler = Arc::clone(&handler);
                let recorded = Arc::clone(&recorded);
                std::thread::spawn(move || serve(stream, &*handler, &recorded));
            }
        });
        ModelServer { port, requests }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, handler: &Handler, recorded: &Mutex<Vec<Request>>) {
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(30)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 {
            break;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let mut body = Vec::new();
    if let Some(length) = header("content-length").and_then(|value| value.parse::<usize>().ok()) {
        body.resize(length, 0);
        let _ = reader.read_exact(&mut body);
    } else if header("transfer-encoding").is_some_and(|value| value.contains("chunked")) {
        loop {
            let mut size = String::new();
            if reader.read_line(&mut size).unwrap_or(0) == 0 {
                break;
            }
            let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
                break;
            };
            let mut chunk = vec![0; size + 2];
            if reader.read_exact(&mut chunk).is_err() || size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    let body = if header("content-encoding").is_some_and(|value| value.contains("zstd")) {
        Value::String(format!("<zstd body of {} bytes>", body.len()))
    } else {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    };
    let request = Request {
        method,
        path,
        headers,
        body,
    };
    let response = handler(&request);
    recorded.lock().unwrap().push(request);
    let mut stream = stream;
    match response {
        Response::Json(status, value) => {
            let text = value.to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 {status} OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len()
            );
        }
        Response::Events(events) => {
            let mut text = String::new();
            for (name, data) in events {
                if let Some(name) = name {
                    text.push_str(&format!("event: {name}\n"));
                }
                text.push_str(&format!("data: {data}\n\n"));
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    }
    let _ = stream.flush();
}

/// The Anthropic Messages API's stream for one assistant message: `blocks` are content blocks
/// (`{"type": "text", "text"}` or `{"type": "tool_use", "id", "name", "input"}`).
///
/// Every message gets an id of its own: Claude Code merges consecutive assistant messages that
/// share one.
pub fn anthropic_message(blocks: &[Value], stop_reason: &str) -> Response {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let id = format!(
        "msg_scripted_{}",
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let mut events = vec![(
        Some("message_start".to_owned()),
        serde_json::json!({
            "type": "message_start",
            "message": {
                "id": id, "type": "message", "role": "assistant",
                "model": "claude-scripted", "content": [], "stop_reason": null,
                "stop_sequence": null, "usage": { "input_tokens": 10, "output_tokens": 1 }
            }
        }),
    )];
    for (index, block) in blocks.iter().enumerate() {
        let start = match block["type"].as_str() {
            Some("tool_use") => serde_json::json!({
                "type": "tool_use", "id": block["id"], "name": block["name"], "input": {}
            }),
            _ => serde_json::json!({ "type": "text", "text": "" }),
        };
        events.push((
            Some("content_block_start".to_owned()),
            serde_json::json!({ "type": "content_block_start", "index": index, "content_block": start }),
        ));
        let delta = match block["type"].as_str() {
            Some("tool_use") => serde_json::json!({
                "type": "input_json_delta", "partial_json": block["input"].to_string()
            }),
            _ => serde_json::json!({ "type": "text_delta", "text": block["text"] }),
        };
        events.push((
            Some("content_block_delta".to_owned()),
            serde_json::json!({ "type": "content_block_delta", "index": index, "delta": delta }),
        ));
        events.push((
            Some("content_block_stop".to_owned()),
            serde_json::json!({ "type": "content_block_stop", "index": index }),
        ));
    }
    events.push((
        Some("message_delta".to_owned()),
        serde_json::json!({
            "type": "message_delta",
            "delta": { "stop_reason": stop_reason, "stop_sequence": null },
            "usage": { "output_tokens": 5 }
        }),
    ));
    events.push((
        Some("message_stop".to_owned()),
        serde_json::json!({ "type": "message_stop" }),
    ));
    Response::Events(events)
}

/// One chunk of the Gemini API's `streamGenerateContent?alt=sse` stream: a model turn of
/// `parts` (`{"text"}` or `{"functionCall": {"name", "args"}}`).
pub fn gemini_chunk(parts: &[Value]) -> Response {
    Response::Events(vec![(
        None,
        serde_json::json!({
            "candidates": [{
                "content": { "role": "model", "parts": parts },
                "finishReason": "STOP", "index": 0
            }],
            "usageMetadata": { "promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15 },
            "modelVersion": "gemini-scripted"
        }),
    )])
}

/// The OpenAI Responses API's stream for one response: `items` are output items (`{"type":
/// "message", "role": "assistant", "content": [{"type": "output_text", "text"}]}` or
/// `{"type": "function_call", "call_id", "name", "arguments"}`), each sent whole as
/// `response.output_item.done`, then `response.completed`.
pub fn openai_response(id: &str, items: &[Value]) -> Response {
    let mut events = vec![(
        Some("response.created".to_owned()),
        serde_json::json!({ "type": "response.created", "response": { "id": id } }),
    )];
    for item in items {
        events.push((
            Some("response.output_item.done".to_owned()),
            serde_json::json!({ "type": "response.output_item.done", "item": item }),
        ));
    }
    events.push((
        Some("response.completed".to_owned()),
        serde_json::json!({
            "type": "response.completed",
            "response": { "id": id, "usage": {
                "input_tokens": 10, "input_tokens_details": null, "output_tokens": 5,
                "output_tokens_details": null, "total_tokens": 15
            } }
        }),
    ));
    Response::Events(events)
}
