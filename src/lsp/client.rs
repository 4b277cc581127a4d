//! A small LSP client over real pipes: how `prodcode demo` and the tests drive the daemon.
//!
//! It speaks raw JSON (`serde_json::Value`) on purpose: tests compare whole messages, and the
//! demo shows what an editor plugin would send.

use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError};
use serde_json::{Value, json};

/// How long to wait for the daemon's answer before calling it hung.
const TIMEOUT: Duration = Duration::from_secs(60);

pub struct StdioClient {
    child: Child,
    stdin: Option<ChildStdin>,
    messages: Receiver<Value>,
    next_id: i64,
    /// Notifications the server sent while the client waited for responses.
    pub notifications: Vec<Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("io: {0}")]
    Io(#[from] io::Error),
    #[error("the server sent no answer within {0:?}")]
    Timeout(Duration),
    #[error("the server closed the connection")]
    Closed,
    #[error("the server answered with error {code}: {message}")]
    Response { code: i64, message: String },
}

impl StdioClient {
    /// Starts `program args…` with piped stdin and stdout; stderr goes where `stderr` says.
    pub fn spawn(
        program: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
        stderr: Stdio,
    ) -> io::Result<StdioClient> {
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr);
        for (key, value) in envs {
            command.env(key, value);
        }
        let mut child = command.spawn()?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("no stdout"))?;
        let (sender, messages) = crossbeam_channel::unbounded();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Ok(Some(message)) = read_message(&mut reader) {
                if sender.send(message).is_err() {
                    return;
                }
            }
        });
        Ok(StdioClient {
            child,
            stdin,
            messages,
            next_id: 1,
            notifications: Vec::new(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Writes bytes as they are: for sending malformed frames.
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| io::Error::other("stdin closed"))?;
        stdin.write_all(bytes)?;
        stdin.flush()
    }

    pub fn send(&mut self, message: &Value) -> io::Result<()> {
        let body = message.to_string();
        let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        frame.extend_from_slice(body.as_bytes());
        self.send_raw(&frame)
    }

    pub fn notify(&mut self, method: &str, params: Value) -> io::Result<()> {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }))
    }

    /// Sends a request without waiting; returns its id.
    pub fn send_request(&mut self, method: &str, params: Value) -> io::Result<i64> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }))?;
        Ok(id)
    }

    /// Sends a request and waits for its response, keeping notifications seen meanwhile.
    pub fn request(&mut self, method: &str, params: Value) -> Result<Value, ClientError> {
        let id = self.send_request(method, params)?;
        let response = self.wait_response(id)?;
        if let Some(error) = response.get("error") {
            return Err(ClientError::Response {
                code: error["code"].as_i64().unwrap_or(0),
                message: error["message"].as_str().unwrap_or_default().to_owned(),
            });
        }
        Ok(response.get("result").cloned().unwrap_or(Value::Null))
    }

    /// Waits for the whole response message with this id.
    pub fn wait_response(&mut self, id: i64) -> Result<Value, ClientError> {
        loop {
            let message = self.next_message()?;
            if message.get("id").and_then(Value::as_i64) == Some(id)
                && message.get("method").is_none()
            {
                return Ok(message);
            }
            self.notifications.push(message);
        }
    }

    /// The next message the server sends, whatever it is.
    pub fn next_message(&mut self) -> Result<Value, ClientError> {
        match self.messages.recv_timeout(TIMEOUT) {
            Ok(message) => Ok(message),
            Err(RecvTimeoutError::Timeout) => Err(ClientError::Timeout(TIMEOUT)),
            Err(RecvTimeoutError::Disconnected) => Err(ClientError::Closed),
        }
    }

    /// `initialize` + `initialized` for one workspace folder.
    pub fn initialize(&mut self, root: &Path, capabilities: Value) -> Result<Value, ClientError> {
        let uri = super::conv::path_to_uri(root);
        let result = self.request(
            "initialize",
            json!({
                "processId": std::process::id(),
                "rootUri": uri,
                "workspaceFolders": [{ "uri": uri, "name": "workspace" }],
                "capabilities": capabilities,
            }),
        )?;
        self.notify("initialized", json!({}))?;
        Ok(result)
    }

    /// `shutdown` + `exit`, then waits for the process.
    pub fn shutdown(mut self) -> Result<ExitStatus, ClientError> {
        self.request("shutdown", Value::Null)?;
        self.notify("exit", Value::Null)?;
        self.stdin = None;
        Ok(self.child.wait()?)
    }

    /// Closes stdin and waits for the process.
    pub fn close(mut self) -> io::Result<ExitStatus> {
        self.stdin = None;
        self.child.wait()
    }

    /// SIGKILL, as a crash would.
    pub fn kill(mut self) -> io::Result<ExitStatus> {
        self.child.kill()?;
        self.child.wait()
    }
}

impl Drop for StdioClient {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn read_message(reader: &mut impl BufRead) -> io::Result<Option<Value>> {
    let mut length = None;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let length = length.ok_or_else(|| io::Error::other("a frame without Content-Length"))?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(io::Error::other)
}
