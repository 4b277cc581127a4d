//! Handlers, one file per family. Each is a free function over `GlobalState` and typed params.

pub mod extensions;
pub mod external;
pub mod text_sync;
pub mod tools;

/// Why a handler could not do what was asked; requests answer with it, notifications log it.
#[derive(Debug)]
pub struct HandlerError {
    pub code: lsp_server::ErrorCode,
    pub message: String,
}

impl HandlerError {
    pub fn invalid_params(message: impl Into<String>) -> HandlerError {
        HandlerError {
            code: lsp_server::ErrorCode::InvalidParams,
            message: message.into(),
        }
    }
}

pub type HandlerResult<T> = Result<T, HandlerError>;
