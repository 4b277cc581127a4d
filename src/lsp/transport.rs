//! The stdio transport: base-protocol framing that survives bad input.
//!
//! `lsp-server`'s own stdio reader ends the connection on the first malformed message; a daemon
//! that must never exit on a bad message needs a reader that reports the problem and resynchronises
//! on the next header. Messages themselves are `lsp_server::Message`, so the rest of the daemon
//! uses the crate's types as usual.

use std::io::{self, BufRead, Write};
use std::thread;

use crossbeam_channel::{Receiver, Sender};
use lsp_server::{Message, RequestId};

/// What the reader thread hands to the main loop.
#[derive(Debug)]
pub enum Incoming {
    Message(Message),
    /// A frame that could not be read as a JSON-RPC message. `id` is set when the payload was
    /// JSON with a usable request id, so the request can still be answered with an error.
    Malformed {
        id: Option<RequestId>,
        reason: String,
    },
}

pub struct Transport {
    pub incoming: Receiver<Incoming>,
    pub outgoing: Sender<Message>,
    writer: thread::JoinHandle<()>,
}

impl Transport {
    /// Serves over this process's stdin and stdout.
    pub fn stdio() -> Transport {
        Transport::new(io::BufReader::new(io::stdin()), io::stdout())
    }

    pub fn new(
        input: impl BufRead + Send + 'static,
        output: impl Write + Send + 'static,
    ) -> Transport {
        let (incoming_tx, incoming) = crossbeam_channel::bounded(4096);
        let (outgoing, outgoing_rx) = crossbeam_channel::unbounded::<Message>();
        thread::Builder::new()
            .name("lsp-reader".to_owned())
            .spawn(move || read_loop(input, incoming_tx))
            .expect("spawning the reader thread");
        let writer = thread::Builder::new()
            .name("lsp-writer".to_owned())
            .spawn(move || write_loop(output, outgoing_rx))
            .expect("spawning the writer thread");
        Transport {
            incoming,
            outgoing,
            writer,
        }
    }

    /// Closes the outgoing side and waits until everything queued has been written.
    pub fn finish(self) {
        drop(self.outgoing);
        let _ = self.writer.join();
    }
}

fn read_loop(mut input: impl BufRead, incoming: Sender<Incoming>) {
    loop {
        let item = match read_frame(&mut input) {
            Ok(Some(Ok(body))) => parse_message(&body),
            Ok(Some(Err(reason))) => Incoming::Malformed { id: None, reason },
            Ok(None) => return,
            Err(error) => {
                tracing::warn!("reading from the client failed: {error}");
                return;
            }
        };
        if incoming.send(item).is_err() {
            return;
        }
    }
}

fn write_loop(mut output: impl Write, outgoing: Receiver<Message>) {
    for message in outgoing {
        let text = match serde_json::to_string(&Outgoing {
            jsonrpc: "2.0",
            message: &message,
        }) {
            Ok(text) => text,
            Err(error) => {
                tracing::error!("could not serialise an outgoing message: {error}");
                continue;
            }
        };
        let written = write!(output, "Content-Length: {}\r\n\r\n", text.len())
            .and_then(|()| output.write_all(text.as_bytes()))
            .and_then(|()| output.flush());
        if let Err(error) = written {
            tracing::warn!("writing to the client failed: {error}");
            return;
        }
    }
}

#[derive(serde::Serialize)]
struct Outgoing<'a> {
    jsonrpc: &'static str,
    #[serde(flatten)]
    message: &'a Message,
}

/// Upper bound on one message body; a larger `Content-Length` is treated as a malformed header
/// (the body is skipped, not buffered).
const MAX_BODY: usize = 512 * 1024 * 1024;

/// Reads one frame. `Ok(None)` at end of input; `Ok(Some(Err(_)))` for a frame that was skipped.
fn read_frame(input: &mut impl BufRead) -> io::Result<Option<Result<String, String>>> {
    let mut length: Option<usize> = None;
    let mut problem: Option<String> = None;
    let mut saw_header = false;
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if saw_header {
                break;
            }
            // Blank lines between frames are harmless.
            continue;
        }
        saw_header = true;
        match text.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                match value.trim().parse::<usize>() {
                    Ok(n) if n <= MAX_BODY => length = Some(n),
                    Ok(n) => problem = Some(format!("Content-Length {n} is over the limit")),
                    Err(_) => problem = Some(format!("bad Content-Length header {text:?}")),
                }
            }
            Some(_) => {}
            None => problem = Some(format!("malformed header line {text:?}")),
        }
    }
    let Some(length) = length else {
        return Ok(Some(Err(
            problem.unwrap_or_else(|| "a frame without Content-Length".to_owned())
        )));
    };
    let mut body = vec![0; length];
    input.read_exact(&mut body)?;
    if let Some(problem) = problem {
        return Ok(Some(Err(problem)));
    }
    Ok(Some(String::from_utf8(body).map_err(|_| {
        "a message body that is not UTF-8".to_owned()
    })))
}

fn parse_message(body: &str) -> Incoming {
    match serde_json::from_str::<Message>(body) {
        Ok(message) => Incoming::Message(message),
        Err(error) => {
            let id = serde_json::from_str::<serde_json::Value>(body)
                .ok()
                .and_then(|value| value.get("id").cloned())
                .and_then(|id| serde_json::from_value::<RequestId>(id).ok());
            Incoming::Malformed {
                id,
                reason: format!("not a JSON-RPC message: {error}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &str) -> Vec<String> {
        let mut reader = io::BufReader::new(input.as_bytes());
        let mut out = Vec::new();
        while let Some(frame) = read_frame(&mut reader).unwrap() {
            out.push(match frame {
                Ok(body) => body,
                Err(problem) => format!("ERR {problem}"),
            });
        }
        out
    }

    #[test]
    fn skips_a_bad_header_and_reads_the_next_frame() {
        let input = "garbage\r\n\r\nContent-Length: 2\r\n\r\n{}Content-Length: 3\r\n\r\n[1]";
        assert_eq!(
            frames(input),
            ["ERR malformed header line \"garbage\"", "{}", "[1]"]
        );
    }

    #[test]
    fn reports_a_request_id_in_a_bad_request() {
        let item = parse_message(r#"{"jsonrpc":"2.0","id":7,"method":5}"#);
        match item {
            Incoming::Malformed { id, .. } => assert_eq!(id, Some(RequestId::from(7))),
            other => panic!("expected a malformed message, got {other:?}"),
        }
    }
}
