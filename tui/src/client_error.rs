//! What can go wrong talking to the leadhook server, shared by the HTTP client and the
//! event-stream reader (its own module, so neither imports the other for it).

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("server unreachable at {server} ({reason}); is leadhook-server running there?")]
    Unreachable { server: String, reason: String },
    #[error(
        "token rejected: set LEADHOOK_TOKEN (or --token-file) to one of the server's API tokens"
    )]
    Unauthorized,
    #[error("not found: {0}")]
    NotFound(String),
    #[error("{message} ({code})")]
    Rejected { code: String, message: String },
    #[error(
        "unexpected answer from the server ({0}); check that --server points at leadhook-server"
    )]
    Unexpected(String),
}
