//! The stdio transport: base-protocol framing that survives bad input.
//!
//! `lsp-server`'s own stdio reader ends the connection on the first malformed message; a daemon
//! that must never exit on a bad message needs a reader that reports the problem and resynchronises
//! on the next header. Messages themselves are `lsp_server::Message`, so the rest of the daemon
//! uses the crate's types as usual.

use std::io::{self, Read, Write};
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
        Transport::new(io::stdin(), io::stdout())
    }

    pub fn new(
        input: impl Read + Send + 'static,
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

fn read_loop(input: impl Read, incoming: Sender<Incoming>) {
    let mut reader = FrameReader::new(input);
    loop {
        let item = match reader.next() {
            Ok(Some(item)) => item,
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

/// Upper bound on one message body; a larger `Content-Length` is treated as a malformed header.
const MAX_BODY: usize = 512 * 1024 * 1024;

/// Upper bound on one header line; a longer line is not a header, and the reader resynchronises.
const MAX_HEADER_LINE: usize = 8 * 1024;

/// How much a JSON value that follows a bad header may take before the reader stops looking for
/// its end and resynchronises instead.
const MAX_UNFRAMED: usize = 16 * 1024 * 1024;

/// The header every frame starts with; the reader resynchronises on its next occurrence.
const CONTENT_LENGTH: &[u8] = b"content-length:";

/// Reads frames from a byte stream, and survives frames whose header lies.
///
/// A frame is trusted as far as its bytes agree with it (#13):
/// - `Content-Length` is digits only (`+5`, `5 `-less garbage, `0x10` are malformed headers); the
///   JSON value after a malformed header is still read, so a request in it is answered with an
///   error that carries its id.
/// - A length too small (a client that counted characters, not bytes, of `"café"`) leaves the
///   body an unfinished JSON value: the reader reads on to the value's end, delivers the message
///   and logs the mismatch.
/// - A length too large would swallow the start of the next frame: a body that holds a complete
///   JSON value before its claimed end is delivered as soon as the value is complete (the client
///   may be waiting for the answer before it sends more), and whatever follows the value is read
///   as the next frame.
/// - Anything else that is not a header (the rest of a body, garbage) is skipped up to the next
///   `Content-Length:`, and the number of bytes skipped is logged and reported to the client.
struct FrameReader<R> {
    input: R,
    buffer: Vec<u8>,
    /// Where the unread bytes of `buffer` start.
    at: usize,
    /// Bytes a too-large `Content-Length` still claims after a message delivered early;
    /// whitespace among them is padding and is skipped.
    owed: usize,
    /// A report to hand to the main loop before the frame read after it (bytes skipped).
    notice: Option<String>,
    /// A frame read, waiting behind its notice.
    queued: Option<Incoming>,
    /// Bytes skipped so far while resynchronising.
    skipped: u64,
}

/// How far the first JSON value of some bytes reaches.
enum Extent {
    /// The value ends after this many bytes.
    Complete(usize),
    /// The bytes end before the value does.
    Incomplete,
    /// The bytes are not JSON.
    Invalid,
}

/// What a header line is.
enum HeaderLine {
    Length(usize),
    BadLength(String),
    /// Another header (`Content-Type`), accepted and ignored.
    Other,
    /// Not a header at all: the reader is out of step with the frames.
    Garbage,
}

impl<R: Read> FrameReader<R> {
    fn new(input: R) -> FrameReader<R> {
        FrameReader {
            input,
            buffer: Vec::new(),
            at: 0,
            owed: 0,
            notice: None,
            queued: None,
            skipped: 0,
        }
    }

    /// The next message or malformed frame; `Ok(None)` at end of input.
    fn next(&mut self) -> io::Result<Option<Incoming>> {
        if let Some(item) = self.queued.take() {
            return Ok(Some(item));
        }
        self.skip_owed()?;
        let item = match self.read_header()? {
            None => None,
            Some(Ok(length)) => Some(self.read_body(length)?),
            Some(Err(reason)) => Some(self.read_unframed(reason)?),
        };
        // Bytes skipped on the way are reported before the frame found after them.
        Ok(match self.notice.take() {
            Some(reason) => {
                self.queued = item;
                Some(Incoming::Malformed { id: None, reason })
            }
            None => item,
        })
    }

    fn available(&self) -> &[u8] {
        &self.buffer[self.at..]
    }

    fn consume(&mut self, count: usize) {
        self.at += count;
    }

    /// Reads more input; `false` at end of input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.at > 0 && self.at * 2 >= self.buffer.len() {
            self.buffer.drain(..self.at);
            self.at = 0;
        }
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match self.input.read(&mut chunk) {
                Ok(0) => return Ok(false),
                Ok(read) => {
                    self.buffer.extend_from_slice(&chunk[..read]);
                    return Ok(true);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
    }

    /// Skips the whitespace a too-large `Content-Length` still claims.
    fn skip_owed(&mut self) -> io::Result<()> {
        while self.owed > 0 {
            if self.available().is_empty() && !self.fill()? {
                self.owed = 0;
                break;
            }
            let blank = self
                .available()
                .iter()
                .take(self.owed)
                .take_while(|byte| byte.is_ascii_whitespace())
                .count();
            self.consume(blank);
            self.owed -= blank;
            if self.owed > 0 && !self.available().is_empty() {
                tracing::warn!(
                    "a Content-Length was {} bytes larger than its message; reading the next \
                     frame from the message's end",
                    self.owed
                );
                self.owed = 0;
            }
        }
        Ok(())
    }

    /// The end of the next line (the index of its `\n` in [`Self::available`]); `Ok(None)` when
    /// the input ends first, `Err(())` for a line too long to be a header.
    fn line_end(&mut self) -> io::Result<Option<Result<usize, ()>>> {
        loop {
            if let Some(end) = self.available().iter().position(|&byte| byte == b'\n') {
                return Ok(Some(Ok(end)));
            }
            if self.available().len() > MAX_HEADER_LINE {
                return Ok(Some(Err(())));
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Reads a header block: `Some(Ok(length))`, `Some(Err(reason))` for a block without a
    /// usable `Content-Length`, `None` at end of input. Lines that are no header make the
    /// reader skip to the next `Content-Length:` and start the block again there.
    fn read_header(&mut self) -> io::Result<Option<Result<usize, String>>> {
        'block: loop {
            let mut length = None;
            let mut problem = None;
            let mut block = 0;
            loop {
                let end = match self.line_end()? {
                    None => {
                        let rest = self.available().len();
                        if rest > 0 {
                            self.skip(block + rest, "the input ended inside a header");
                            self.consume(rest);
                        }
                        return Ok(None);
                    }
                    Some(Err(())) => {
                        self.resync(block, "a header line that does not end")?;
                        continue 'block;
                    }
                    Some(Ok(end)) => end,
                };
                let line = &self.available()[..end];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line.is_empty() {
                    self.consume(end + 1);
                    if block == 0 {
                        // Blank lines between frames are harmless.
                        continue;
                    }
                    return Ok(Some(match (problem, length) {
                        (Some(problem), _) => Err(problem),
                        (None, Some(length)) => Ok(length),
                        (None, None) => Err("a frame without Content-Length".to_owned()),
                    }));
                }
                match header_line(line) {
                    HeaderLine::Length(n) => length = Some(n),
                    HeaderLine::BadLength(reason) => problem = Some(reason),
                    HeaderLine::Other => {}
                    HeaderLine::Garbage => {
                        let what = format!(
                            "{:?} is not a header",
                            String::from_utf8_lossy(&line[..line.len().min(40)])
                        );
                        self.resync(block, &what)?;
                        continue 'block;
                    }
                }
                block += end + 1;
                self.consume(end + 1);
            }
        }
    }

    /// Skips to the next `Content-Length:` after the first unread byte (`already` bytes of the
    /// same bad block were consumed before), logging and reporting how much was skipped.
    fn resync(&mut self, already: usize, reason: &str) -> io::Result<()> {
        let mut skipped = already;
        // The first unread byte starts what was found not to be a header: never match there.
        let mut from = 1;
        loop {
            let available = self.available();
            let from_here = from.min(available.len());
            if let Some(found) = find_ignoring_case(&available[from_here..], CONTENT_LENGTH) {
                let count = from_here + found;
                self.consume(count);
                skipped += count;
                break;
            }
            // Keep a tail that may be the start of the next header.
            let count = available
                .len()
                .saturating_sub(CONTENT_LENGTH.len() - 1)
                .max(from_here);
            self.consume(count);
            skipped += count;
            from = from.saturating_sub(count);
            if !self.fill()? {
                let rest = self.available().len();
                self.consume(rest);
                skipped += rest;
                break;
            }
        }
        self.skip(skipped, reason);
        Ok(())
    }

    fn skip(&mut self, bytes: usize, reason: &str) {
        self.skipped += bytes as u64;
        let message = format!(
            "skipped {bytes} bytes of input that were not a message frame ({reason}); reading on \
             from the next Content-Length header"
        );
        tracing::warn!("{message}");
        self.notice = Some(message);
    }

    /// Reads a body of `length` bytes, or the JSON value it really holds when the length is
    /// wrong.
    fn read_body(&mut self, length: usize) -> io::Result<Incoming> {
        while self.available().len() < length {
            // A complete value before the claimed end: the length is too large. Deliver now,
            // the client may be waiting for the answer before it sends the rest.
            let available = self.available();
            let last = available
                .iter()
                .rev()
                .find(|byte| !byte.is_ascii_whitespace());
            if last == Some(&b'}')
                && let Extent::Complete(end) = first_value(available)
            {
                let message = parse_message(&available[..end]);
                self.consume(end);
                self.owed = length - end;
                return Ok(message);
            }
            if !self.fill()? {
                let body = self.available().to_vec();
                self.consume(body.len());
                return Ok(Incoming::Malformed {
                    id: request_id(&body),
                    reason: format!(
                        "the input ended {} bytes into a {length}-byte message",
                        body.len()
                    ),
                });
            }
        }
        let body = &self.available()[..length];
        let error = match serde_json::from_slice::<Message>(body) {
            Ok(message) => {
                self.consume(length);
                return Ok(Incoming::Message(message));
            }
            Err(error) => error,
        };
        if error.classify() == serde_json::error::Category::Data {
            // Well framed JSON that is no JSON-RPC message.
            let item = malformed(body, &error);
            self.consume(length);
            return Ok(item);
        }
        match first_value(body) {
            Extent::Complete(end) => {
                tracing::warn!(
                    "a Content-Length of {length} bytes runs {} bytes past its message; reading \
                     those bytes as the next frame",
                    length - end
                );
                let message = parse_message(&body[..end]);
                self.consume(end);
                Ok(message)
            }
            Extent::Incomplete => {
                let limit = length.saturating_mul(4).max(length + 4096).min(MAX_BODY);
                loop {
                    let available = self.available();
                    match first_value(available) {
                        Extent::Complete(end) => {
                            tracing::warn!(
                                "a Content-Length of {length} bytes was {} bytes short of its \
                                 message (a client counting characters, not bytes?); read the \
                                 message to its end",
                                end - length
                            );
                            let message = parse_message(&available[..end]);
                            self.consume(end);
                            return Ok(message);
                        }
                        Extent::Incomplete if available.len() < limit => {
                            if !self.fill()? {
                                break;
                            }
                        }
                        _ => break,
                    }
                }
                // No JSON value ends nearby: drop the frame as framed; the header scan
                // resynchronises on what follows.
                let body = self.available()[..length].to_vec();
                self.consume(length);
                Ok(Incoming::Malformed {
                    id: request_id(&body),
                    reason: format!("a {length}-byte message body that is not JSON: {error}"),
                })
            }
            Extent::Invalid => {
                // The body may have swallowed the next header, or the start of it.
                let end = find_ignoring_case(body, CONTENT_LENGTH)
                    .unwrap_or_else(|| length - header_start_at_end(body));
                let body = body[..end].to_vec();
                self.consume(end);
                Ok(Incoming::Malformed {
                    id: request_id(&body),
                    reason: format!("a message body that is not JSON: {error}"),
                })
            }
        }
    }

    /// After a header without a usable length: the JSON value that follows, if one does, read
    /// only to find a request id to answer.
    fn read_unframed(&mut self, reason: String) -> io::Result<Incoming> {
        loop {
            let available = self.available();
            match first_value(available) {
                Extent::Complete(end) => {
                    let id = request_id(&available[..end]);
                    self.consume(end);
                    return Ok(Incoming::Malformed { id, reason });
                }
                Extent::Incomplete if available.len() < MAX_UNFRAMED => {
                    if !self.fill()? {
                        break;
                    }
                }
                _ => break,
            }
        }
        Ok(Incoming::Malformed { id: None, reason })
    }
}

fn header_line(line: &[u8]) -> HeaderLine {
    let Some(colon) = line.iter().position(|&byte| byte == b':') else {
        return HeaderLine::Garbage;
    };
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    if name.is_empty() || !name.iter().all(|&byte| is_token_char(byte)) {
        return HeaderLine::Garbage;
    }
    if !name.eq_ignore_ascii_case(b"content-length") {
        return HeaderLine::Other;
    }
    let value = value.trim_ascii();
    let digits = !value.is_empty() && value.len() <= 12 && value.iter().all(u8::is_ascii_digit);
    let parsed = std::str::from_utf8(value)
        .ok()
        .filter(|_| digits)
        .and_then(|text| text.parse::<usize>().ok());
    match parsed {
        Some(length) if length <= MAX_BODY => HeaderLine::Length(length),
        Some(length) => HeaderLine::BadLength(format!(
            "Content-Length {length} is over the limit of {MAX_BODY} bytes"
        )),
        None => HeaderLine::BadLength(format!(
            "Content-Length {:?} is not a number of bytes (digits only)",
            String::from_utf8_lossy(value)
        )),
    }
}

/// RFC 9110 token characters, which header names are made of.
fn is_token_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

fn find_ignoring_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle))
}

/// The length of the longest end of `bytes` that starts a `Content-Length:` header.
fn header_start_at_end(bytes: &[u8]) -> usize {
    (1..CONTENT_LENGTH.len())
        .rev()
        .find(|&count| {
            count <= bytes.len()
                && bytes[bytes.len() - count..].eq_ignore_ascii_case(&CONTENT_LENGTH[..count])
        })
        .unwrap_or(0)
}

fn first_value(bytes: &[u8]) -> Extent {
    let mut values =
        serde_json::Deserializer::from_slice(bytes).into_iter::<serde::de::IgnoredAny>();
    match values.next() {
        Some(Ok(_)) => Extent::Complete(values.byte_offset()),
        Some(Err(error)) if error.is_eof() => Extent::Incomplete,
        None => Extent::Incomplete,
        Some(Err(_)) => Extent::Invalid,
    }
}

fn parse_message(body: &[u8]) -> Incoming {
    match serde_json::from_slice::<Message>(body) {
        Ok(message) => Incoming::Message(message),
        Err(error) => malformed(body, &error),
    }
}

fn malformed(body: &[u8], error: &serde_json::Error) -> Incoming {
    Incoming::Malformed {
        id: request_id(body),
        reason: format!("not a JSON-RPC message: {error}"),
    }
}

/// The id of the request in `body`, when it is JSON with a usable one.
fn request_id(body: &[u8]) -> Option<RequestId> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|value| value.get("id").cloned())
        .and_then(|id| serde_json::from_value::<RequestId>(id).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each item the reader produces from `input`, as `id method` for a request, `method` for a
    /// notification, `ERR id: reason` for a malformed frame.
    fn items(input: &[u8]) -> Vec<String> {
        let mut reader = FrameReader::new(input);
        let mut out = Vec::new();
        while let Some(item) = reader.next().unwrap() {
            out.push(show(item));
        }
        out
    }

    fn show(item: Incoming) -> String {
        match item {
            Incoming::Message(Message::Request(request)) => {
                format!("{} {}", request.id, request.method)
            }
            Incoming::Message(Message::Notification(notification)) => notification.method,
            Incoming::Message(Message::Response(response)) => format!("response {}", response.id),
            Incoming::Malformed { id, reason } => match id {
                Some(id) => format!("ERR {id}: {reason}"),
                None => format!("ERR: {reason}"),
            },
        }
    }

    fn request(id: u32, text: &str) -> String {
        format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"m","params":{{"text":"{text}"}}}}"#)
    }

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    /// A frame whose length is off by `delta` bytes.
    fn misframed(body: &str, delta: isize) -> String {
        format!(
            "Content-Length: {}\r\n\r\n{body}",
            body.len() as isize + delta
        )
    }

    fn ids(items: &[String]) -> Vec<&str> {
        items
            .iter()
            .map(|item| &item[..item.find(' ').unwrap_or(item.len())])
            .collect()
    }

    #[test]
    fn skips_a_bad_header_and_reads_the_next_frame() {
        let input = "garbage\r\n\r\nContent-Length: 2\r\n\r\n{}Content-Length: 3\r\n\r\n[1]";
        let items = items(input.as_bytes());
        assert_eq!(items.len(), 3, "{items:?}");
        assert!(items[0].starts_with("ERR: skipped 11 bytes"), "{items:?}");
        assert!(
            items[0].contains("\"garbage\" is not a header"),
            "{items:?}"
        );
        assert!(
            items[1].starts_with("ERR: not a JSON-RPC message"),
            "{items:?}"
        );
        assert!(
            items[2].starts_with("ERR: not a JSON-RPC message"),
            "{items:?}"
        );
    }

    #[test]
    fn reports_a_request_id_in_a_bad_request() {
        let item = parse_message(br#"{"jsonrpc":"2.0","id":7,"method":5}"#);
        match item {
            Incoming::Malformed { id, .. } => assert_eq!(id, Some(RequestId::from(7))),
            other => panic!("expected a malformed message, got {other:?}"),
        }
    }

    // Issue 13: a client counting characters instead of bytes made the daemon deaf.
    #[test]
    fn a_length_counted_in_characters_is_read_to_the_end_of_its_message() {
        let body = request(1, "café ☕ naïve");
        let short = body.chars().count() as isize - body.len() as isize;
        let mut input = misframed(&body, short);
        for id in 2..=11 {
            input.push_str(&frame(&request(id, "plain")));
        }
        let items = items(input.as_bytes());
        assert_eq!(
            ids(&items),
            ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"],
            "{items:?}"
        );
    }

    #[test]
    fn a_length_too_large_gives_back_the_start_of_the_next_frame() {
        for extra in [1, 2, 5, 15, 16, 40] {
            let mut input = misframed(&request(1, "first"), extra);
            input.push_str(&frame(&request(2, "second")));
            input.push_str(&frame(&request(3, "third")));
            let items = items(input.as_bytes());
            assert_eq!(ids(&items), ["1", "2", "3"], "{extra}: {items:?}");
        }
    }

    #[test]
    fn whitespace_padding_within_the_length_is_harmless() {
        let mut input = misframed(&format!("{}\r\n  ", request(1, "padded")), 0);
        input.push_str(&frame(&request(2, "next")));
        assert_eq!(ids(&items(input.as_bytes())), ["1", "2"]);
    }

    /// Input that arrives in pieces and then waits (a client waiting for an answer).
    struct Pieces(Vec<Vec<u8>>);

    impl Read for Pieces {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "the client waits",
                ));
            }
            let piece = self.0.remove(0);
            buf[..piece.len()].copy_from_slice(&piece);
            Ok(piece.len())
        }
    }

    #[test]
    fn a_length_too_large_does_not_wait_for_bytes_the_client_will_never_send() {
        let body = request(1, "waiting");
        let header = format!("Content-Length: {}\r\n\r\n", body.len() + 10);
        let (half, rest) = body.split_at(20);
        let mut reader = FrameReader::new(Pieces(vec![
            header.into_bytes(),
            half.as_bytes().to_vec(),
            rest.as_bytes().to_vec(),
        ]));
        assert_eq!(show(reader.next().unwrap().unwrap()), "1 m");
        assert!(reader.next().is_err(), "the reader waits for more input");
    }

    #[test]
    fn content_length_is_digits_only_and_the_request_is_answered() {
        for value in ["+5", "-5", "5x", "0x10", "", "1e3", "99999999999999999999"] {
            let body = request(7, "strict");
            let mut input = format!("Content-Length: {value}\r\n\r\n{body}");
            input.push_str(&frame(&request(8, "next")));
            let items = items(input.as_bytes());
            assert_eq!(items.len(), 2, "{value:?}: {items:?}");
            assert!(
                items[0].starts_with("ERR 7: Content-Length"),
                "{value:?}: {items:?}"
            );
            assert_eq!(items[1], "8 m", "{value:?}");
        }
        let spaced = format!("Content-Length:   {}  \r\n\r\n{}", 41, request(9, "spaced"));
        assert_eq!(items(spaced.as_bytes()), ["9 m"]);
    }

    #[test]
    fn the_rest_of_a_body_before_the_next_header_is_skipped_and_counted() {
        let mut input = String::from("}]} trailing junk without a newline");
        input.push_str(&frame(&request(1, "after")));
        let mut reader = FrameReader::new(input.as_bytes());
        let mut out = Vec::new();
        while let Some(item) = reader.next().unwrap() {
            out.push(show(item));
        }
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(out[0].starts_with("ERR: skipped 35 bytes"), "{out:?}");
        assert_eq!(out[1], "1 m");
        assert_eq!(reader.skipped, 35);
    }

    #[test]
    fn a_short_length_over_a_body_that_is_not_json_resynchronises() {
        let mut input = misframed("{\"jsonrpc\": not json at all", -5);
        input.push_str(&frame(&request(2, "next")));
        let items = items(input.as_bytes());
        assert_eq!(items.last().map(String::as_str), Some("2 m"), "{items:?}");
    }

    #[test]
    fn a_header_swallowed_by_a_body_that_is_not_json_is_read_again() {
        for extra in [1, 5, 12, 15, 17, 30] {
            let mut input = misframed("not json", extra);
            input.push_str(&frame(&request(2, "next")));
            let items = items(input.as_bytes());
            assert_eq!(items.len(), 2, "{extra}: {items:?}");
            assert!(
                items[0].starts_with("ERR: a message body that is not JSON"),
                "{items:?}"
            );
            assert_eq!(items[1], "2 m", "{extra}: {items:?}");
        }
    }

    #[test]
    fn input_ending_inside_a_frame_is_reported() {
        let items = items(&misframed(&request(3, "cut"), 0).as_bytes()[..30]);
        assert_eq!(items.len(), 1, "{items:?}");
        assert!(items[0].contains("the input ended"), "{items:?}");
    }

    #[test]
    fn random_damage_never_stops_the_reader() {
        // Every cut, duplication and length error of a three-frame stream: the last frame, intact
        // and after a blank line, is always read.
        let good = [request(1, "a"), request(2, "é"), request(3, "c")];
        let stream: String = good.iter().map(|body| frame(body)).collect();
        let last = frame(&request(9, "last"));
        for cut in 0..stream.len() {
            for delta in [-3isize, -1, 1, 4] {
                let Some(head) = stream.get(..cut) else {
                    continue;
                };
                let damaged = format!("{head}{}\r\n{last}", misframed(&request(5, "x"), delta));
                let items = items(damaged.as_bytes());
                assert_eq!(
                    items.last().map(String::as_str),
                    Some("9 m"),
                    "cut {cut}, delta {delta}: {items:?}"
                );
            }
        }
    }
}
