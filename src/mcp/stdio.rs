//! The MCP stdio transport: newline-delimited JSON-RPC on stdin and stdout, like rmcp's own, but
//! every incoming line goes through [`screen`](super::screen) so that a request rmcp cannot
//! deserialize is answered with its id instead of `-32600` without one (issue 13).
//!
//! Cancellation: rmcp polls [`Transport::receive`] inside a `select!`, so a read may be dropped
//! half-way. The partial line lives in the transport, never in the future, so the next call
//! resumes it (rmcp does the same, see its `AsyncRwTransport`). Answers made here are written by
//! their own task, which a dropped `receive` does not cancel; `close` and the end of input wait
//! for them, so an answer to the last line is written before the process exits.

use std::io;
use std::sync::Arc;

use rmcp::RoleServer;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::Transport;
use tokio::io::{AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader, Stdin, Stdout};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use super::screen::{Screened, screen};

/// The longest line read; longer ones are skipped (rmcp's own limit).
const MAX_LINE: usize = 16 * 1024 * 1024;

pub(super) struct Stdio {
    input: BufReader<Stdin>,
    /// The line read so far.
    line: Vec<u8>,
    /// Dropping the rest of a line that was too long.
    discarding: bool,
    output: Arc<Mutex<Stdout>>,
    /// Answers being written.
    answers: Vec<JoinHandle<()>>,
}

impl Stdio {
    pub(super) fn new() -> Stdio {
        Stdio {
            input: BufReader::new(tokio::io::stdin()),
            line: Vec::new(),
            discarding: false,
            output: Arc::new(Mutex::new(tokio::io::stdout())),
            answers: Vec::new(),
        }
    }

    /// Reads up to the next `\n` into `self.line`; `false` at end of input.
    async fn read_line(&mut self) -> io::Result<bool> {
        loop {
            let available = self.input.fill_buf().await?;
            if available.is_empty() {
                return Ok(false);
            }
            let newline = available.iter().position(|&byte| byte == b'\n');
            let take = newline.map_or(available.len(), |at| at + 1);
            if self.discarding {
                self.discarding = newline.is_none();
            } else if self.line.len() + take > MAX_LINE {
                tracing::warn!("skipped an MCP message longer than {MAX_LINE} bytes");
                self.line.clear();
                self.discarding = newline.is_none();
            } else {
                self.line.extend_from_slice(&available[..take]);
                if newline.is_some() {
                    self.input.consume(take);
                    return Ok(true);
                }
            }
            self.input.consume(take);
        }
    }

    async fn wait_for_answers(&mut self) {
        for answer in self.answers.drain(..) {
            let _ = answer.await;
        }
    }
}

impl Transport<RoleServer> for Stdio {
    type Error = io::Error;

    fn send(
        &mut self,
        item: ServerJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let output = Arc::clone(&self.output);
        async move { write_message(&output, &item).await }
    }

    async fn receive(&mut self) -> Option<ClientJsonRpcMessage> {
        loop {
            let more = match self.read_line().await {
                Ok(more) => more,
                Err(error) => {
                    tracing::error!("cannot read from the MCP client: {error}");
                    false
                }
            };
            if !more {
                // A last line without a newline is still a message.
                if self.line.iter().all(u8::is_ascii_whitespace) {
                    self.wait_for_answers().await;
                    return None;
                }
            }
            let line = std::mem::take(&mut self.line);
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match screen(text) {
                Screened::Message(message) => return Some(message),
                Screened::Answer(answer) => {
                    let output = Arc::clone(&self.output);
                    self.answers.retain(|answer| !answer.is_finished());
                    self.answers.push(tokio::spawn(async move {
                        if let Err(error) = write_message(&output, &answer).await {
                            tracing::warn!("cannot answer the MCP client: {error}");
                        }
                    }));
                }
                Screened::Skip(why) => tracing::debug!("skipped an incoming MCP line: {why}"),
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.wait_for_answers().await;
        self.output.lock().await.flush().await
    }
}

/// Writes one message as a line.
async fn write_message(
    output: &Mutex<impl AsyncWrite + Unpin>,
    message: &ServerJsonRpcMessage,
) -> io::Result<()> {
    let mut line = serde_json::to_vec(message)?;
    line.push(b'\n');
    let mut output = output.lock().await;
    output.write_all(&line).await?;
    output.flush().await
}
