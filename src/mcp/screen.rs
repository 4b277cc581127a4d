//! What the MCP fronts do with a message rmcp cannot take (issue 13).
//!
//! rmcp answers JSON that does not deserialize into one of its message types with `-32600
//! Invalid request` and no id over stdio, and with a plain-text 415 over HTTP. A client waits for
//! the answer to its request by id, so a `tools/call` with a valid id but params that are an
//! array or a string left it waiting forever; and a standard request whose params object does
//! not fit (a number for `name`, no `name`) is taken by rmcp for a custom request and answered
//! `-32601 Method not found`. Both fronts pass each incoming message through [`screen`] first:
//! what rmcp can take goes on unchanged; a request it cannot take, or would misread, is answered
//! here, with its id.
//!
//! The rule, JSON-RPC 2.0's: a message with `"jsonrpc": "2.0"`, a usable `id` (a string or an
//! integer) and a string `method` is a request whose params are wrong: `-32602 Invalid params`.
//! Any other object with a usable id is an invalid request: `-32600`, with the id. Without a
//! usable id, an object that is not a notification or a response is answered `-32600` with a
//! null id (what rmcp does); notifications and responses are never answered; text that is not
//! JSON is skipped (answering garbage can start an error storm with a peer that echoes it).

use rmcp::model::{
    CallToolRequestParams, ClientJsonRpcMessage, ClientRequest, ErrorData, RequestId,
    ServerJsonRpcMessage,
};
use serde_json::Value;

pub(super) enum Screened {
    /// A message rmcp takes as it is.
    Message(ClientJsonRpcMessage),
    /// Not one: send this answer instead.
    Answer(ServerJsonRpcMessage),
    /// Not one, and nothing to answer; why, for the log.
    Skip(&'static str),
}

pub(super) fn screen(text: &[u8]) -> Screened {
    let error = match serde_json::from_slice::<ClientJsonRpcMessage>(text) {
        Ok(ClientJsonRpcMessage::Request(request)) => {
            // rmcp takes a standard method whose params do not fit for a custom request, and
            // answers it `-32601 Method not found`; it is a known method with bad params.
            if let ClientRequest::CustomRequest(custom) = &request.request
                && STANDARD_REQUESTS.contains(&custom.method.as_str())
            {
                let reason = params_error(&custom.method, custom.params.as_ref());
                return Screened::Answer(ServerJsonRpcMessage::error(
                    ErrorData::invalid_params(reason, None),
                    Some(request.id),
                ));
            }
            return Screened::Message(ClientJsonRpcMessage::Request(request));
        }
        Ok(message) => return Screened::Message(message),
        Err(error) => error,
    };
    let Ok(value) = serde_json::from_slice::<Value>(text) else {
        return Screened::Skip("not JSON");
    };
    let Some(object) = value.as_object() else {
        return Screened::Answer(ServerJsonRpcMessage::error(
            ErrorData::invalid_request(
                "Invalid request: a JSON-RPC message is one object (batches are not supported)",
                None,
            ),
            None,
        ));
    };
    let id = object
        .get("id")
        .and_then(|id| serde_json::from_value::<RequestId>(id.clone()).ok());
    let method = object.get("method");
    let version_ok = object.get("jsonrpc").and_then(Value::as_str) == Some("2.0");
    if method.is_none() && (object.contains_key("result") || object.contains_key("error")) {
        return Screened::Skip("a response that is not MCP");
    }
    if method.is_some() && !object.contains_key("id") {
        return Screened::Skip("a notification that is not MCP");
    }
    let (error, id) = match (method, id) {
        (Some(Value::String(method)), Some(id)) if version_ok => (
            ErrorData::invalid_params(
                format!("Invalid params for {method}: {error}{}", hint(method)),
                None,
            ),
            Some(id),
        ),
        (_, id) => (
            ErrorData::invalid_request(
                format!(
                    "Invalid request: {error}; a request is {{\"jsonrpc\": \"2.0\", \"id\": string \
                     or integer, \"method\": string, \"params\"?: object}}"
                ),
                None,
            ),
            id,
        ),
    };
    Screened::Answer(ServerJsonRpcMessage::error(error, id))
}

/// The MCP requests a client sends a server, each of which rmcp parses into a typed request when
/// its params fit (its `ClientRequest`).
const STANDARD_REQUESTS: &[&str] = &[
    "ping",
    "initialize",
    "server/discover",
    "completion/complete",
    "logging/setLevel",
    "prompts/get",
    "prompts/list",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/directory/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "subscriptions/listen",
    "tools/call",
    "tools/list",
    "tasks/get",
    "tasks/update",
    "tasks/cancel",
    "skills/list",
    "skills/get",
];

/// Why the params of a standard request do not fit.
fn params_error(method: &str, params: Option<&Value>) -> String {
    let cause = match (method, params) {
        ("tools/call", None) => "params are missing".to_owned(),
        ("tools/call", Some(params)) => {
            match serde_json::from_value::<CallToolRequestParams>(params.clone()) {
                Err(error) => error.to_string(),
                Ok(_) => "they do not fit its schema".to_owned(),
            }
        }
        _ => "they do not fit its schema".to_owned(),
    };
    format!("Invalid params for {method}: {cause}{}", hint(method))
}

/// What the params of `method` should be, for the methods an agent calls.
fn hint(method: &str) -> &'static str {
    match method {
        "tools/call" => {
            "; pass {\"name\": string, \"arguments\"?: object} (`tools/list` has each tool's schema)"
        }
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(code, id)` of the answer, or `None` when the message is passed on or skipped.
    fn answer(text: &str) -> Option<(i64, Value)> {
        match screen(text.as_bytes()) {
            Screened::Answer(answer) => {
                let answer = serde_json::to_value(&answer).unwrap();
                Some((
                    answer["error"]["code"].as_i64().unwrap(),
                    answer["id"].clone(),
                ))
            }
            Screened::Message(_) | Screened::Skip(_) => None,
        }
    }

    #[test]
    fn wrongly_typed_params_are_answered_by_id() {
        for params in [
            r#"{"name": 5}"#,
            r#"{"arguments": {}}"#,
            r#"{"name": "search", "arguments": "x"}"#,
            r#"{"name": "search", "arguments": [1]}"#,
            r#"[1, 2]"#,
            r#""search""#,
        ] {
            let call = format!(
                r#"{{"jsonrpc":"2.0","id":"c-1","method":"tools/call","params":{params}}}"#
            );
            assert_eq!(
                answer(&call),
                Some((-32602, Value::from("c-1"))),
                "{params}"
            );
        }
        assert_eq!(
            answer(r#"{"jsonrpc":"2.0","id":4,"method":"tools/call"}"#),
            Some((-32602, Value::from(4)))
        );
    }

    #[test]
    fn a_bad_envelope_with_an_id_is_an_invalid_request_with_it() {
        assert_eq!(
            answer(r#"{"jsonrpc":"2.0","id":9,"method":5}"#),
            Some((-32600, Value::from(9)))
        );
        assert_eq!(
            answer(r#"{"jsonrpc":"1.0","id":9,"method":"tools/call","params":{"name":1}}"#),
            Some((-32600, Value::from(9)))
        );
        assert_eq!(answer(r#"{"valid": "JSON"}"#), Some((-32600, Value::Null)));
        assert_eq!(answer("[]"), Some((-32600, Value::Null)));
    }

    #[test]
    fn good_messages_pass_and_notifications_and_garbage_are_not_answered() {
        for text in [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"search","arguments":{"pattern":"x"}}}"#,
            r#"{"jsonrpc":"2.0","id":3,"method":"no/such/method"}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        ] {
            assert!(
                matches!(screen(text.as_bytes()), Screened::Message(_)),
                "{text}"
            );
        }
        for text in [
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":5}"#,
            "not JSON",
            r#"{"unterminated": "#,
        ] {
            assert!(
                matches!(screen(text.as_bytes()), Screened::Skip(_)),
                "{text}"
            );
        }
    }
}
