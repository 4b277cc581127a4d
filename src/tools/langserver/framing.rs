//! The base protocol of LSP: `Content-Length` framed JSON messages.
//!
//! Invariant: reading never panics and never trusts the peer: a header block without
//! `Content-Length`, a length above [`MAX_BODY_BYTES`] or a truncated body is an error (the stream
//! cannot be resynchronised), while a well-framed body that is not JSON is skipped.

use std::io::{self, BufRead, Read};

use serde_json::Value;

/// The largest message body accepted from a server (a workspace/symbol answer of a huge
/// repository stays far below this).
pub const MAX_BODY_BYTES: usize = 256 << 20;

/// One frame for `message`: the header and the JSON body.
pub fn frame(message: &Value) -> Vec<u8> {
    let body = message.to_string();
    let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    frame.extend_from_slice(body.as_bytes());
    frame
}

/// What reading one frame gave.
#[derive(Debug)]
pub enum Frame {
    Message(Value),
    /// A well-framed body that is not valid JSON; the stream goes on.
    Garbled(String),
    /// The stream ended between frames.
    End,
}

/// Reads the next frame. Header lines that are not `Name: value` (a server printing a log line
/// to stdout) are ignored.
pub fn read_frame(reader: &mut impl BufRead) -> io::Result<Frame> {
    let mut length: Option<usize> = None;
    let mut line = Vec::new();
    let mut saw_header = false;
    loop {
        line.clear();
        let read = reader.by_ref().take(8192).read_until(b'\n', &mut line)?;
        if read == 0 {
            return if saw_header {
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the stream ended inside a header",
                ))
            } else {
                Ok(Frame::End)
            };
        }
        let text = String::from_utf8_lossy(&line);
        let header = text.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            if saw_header {
                break;
            }
            continue;
        }
        saw_header = true;
        if let Some((name, value)) = header.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let length = length.ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "a header block without a valid Content-Length",
        )
    })?;
    if length > MAX_BODY_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a message of {length} bytes (at most {MAX_BODY_BYTES} are accepted)"),
        ));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(match serde_json::from_slice(&body) {
        Ok(message) => Frame::Message(message),
        Err(error) => Frame::Garbled(format!(
            "{error}: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn frames(bytes: &[u8]) -> Vec<String> {
        let mut reader = io::BufReader::new(bytes);
        let mut out = Vec::new();
        loop {
            match read_frame(&mut reader) {
                Ok(Frame::Message(message)) => out.push(message.to_string()),
                Ok(Frame::Garbled(_)) => out.push("garbled".to_owned()),
                Ok(Frame::End) => break,
                Err(error) => {
                    out.push(format!("error: {}", error.kind()));
                    break;
                }
            }
        }
        out
    }

    #[test]
    fn a_frame_round_trips() {
        let message = json!({ "jsonrpc": "2.0", "id": 1, "result": "é🦀" });
        let bytes = frame(&message);
        assert!(bytes.starts_with(b"Content-Length: "));
        assert_eq!(frames(&bytes), [message.to_string()]);
    }

    #[test]
    fn several_frames_with_extra_headers_and_noise() {
        let mut bytes = b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-length: 7\r\n\r\n{\"a\":1}".to_vec();
        bytes.extend_from_slice(b"\r\nContent-Length:2\r\n\r\n[]");
        bytes.extend_from_slice(b"a log line on stdout\nContent-Length: 3\n\n{}x");
        assert_eq!(frames(&bytes), ["{\"a\":1}", "[]", "garbled"]);
    }

    #[test]
    fn a_missing_length_a_huge_length_or_a_short_body_is_an_error() {
        assert_eq!(
            frames(b"Content-Type: x\r\n\r\n{}"),
            ["error: invalid data"]
        );
        assert_eq!(
            frames(b"Content-Length: 99999999999\r\n\r\n{}"),
            ["error: invalid data"]
        );
        assert_eq!(
            frames(b"Content-Length: 10\r\n\r\n{}"),
            ["error: unexpected end of file"]
        );
        assert_eq!(
            frames(b"Content-Length: 2\r\n"),
            ["error: unexpected end of file"]
        );
        assert!(frames(b"").is_empty());
    }
}
