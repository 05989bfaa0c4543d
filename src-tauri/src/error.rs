//! The one place where library errors become what the window sees: a small
//! `code` the UI may branch on, a `message` in words, and a `hint` on what to do.
//! The UI never matches message text.

use serde::Serialize;

/// What kind of failure it is, for the UI to choose how to show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Validation,
    HostKeyMismatch,
    HostKeyUnknown,
    AuthFailed,
    Unreachable,
    ToolMissing,
    ProcessFailed,
    Conflict,
    /// Reserved for jobs the user cancels (the jobs commands map to it).
    #[allow(dead_code)]
    Cancelled,
    NotFound,
    Internal,
}

/// An error crossing the IPC boundary.
#[derive(Debug, Clone, Serialize)]
pub struct IpcError {
    pub code: ErrorCode,
    pub message: String,
    pub hint: Option<String>,
}

impl IpcError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl From<std::io::Error> for IpcError {
    fn from(err: std::io::Error) -> Self {
        let code = if err.kind() == std::io::ErrorKind::NotFound {
            ErrorCode::NotFound
        } else {
            ErrorCode::Internal
        };
        IpcError::new(code, err.to_string())
    }
}

impl From<anyhow::Error> for IpcError {
    fn from(err: anyhow::Error) -> Self {
        IpcError::new(ErrorCode::Internal, format!("{err:#}"))
    }
}

pub type IpcResult<T> = Result<T, IpcError>;

impl From<nixdeck_engine::repo::RepoError> for IpcError {
    fn from(err: nixdeck_engine::repo::RepoError) -> Self {
        use nixdeck_engine::repo::RepoError as E;
        let code = match &err {
            E::Invalid(_) => ErrorCode::Validation,
            E::NotADirectory(_) | E::NotARepository(_) | E::NoSuchHost(_) => ErrorCode::NotFound,
            E::AlreadyARepository(_)
            | E::HostExists(_)
            | E::NeedsConfirmation { .. }
            | E::ChangedSincePlan(_) => ErrorCode::Conflict,
            E::Git(_) => ErrorCode::ToolMissing,
            E::Io { .. } => ErrorCode::Internal,
        };
        IpcError::new(code, err.to_string())
    }
}

impl From<nixdeck_engine::probe::ProbeError> for IpcError {
    fn from(err: nixdeck_engine::probe::ProbeError) -> Self {
        let code = match err.code() {
            "host_key_mismatch" | "host_key_revoked" => ErrorCode::HostKeyMismatch,
            "host_key_unknown" => ErrorCode::HostKeyUnknown,
            "auth_failed" | "key_file" | "agent" | "sudo_required" => ErrorCode::AuthFailed,
            "unreachable" | "timeout" | "handshake" => ErrorCode::Unreachable,
            "bad_target" => ErrorCode::Validation,
            _ => ErrorCode::ProcessFailed,
        };
        IpcError::new(code, err.to_string()).with_hint(err.hint())
    }
}

// --- wizard: layout editor, templates, host plans ---

impl From<nixdeck_core::disko::LayoutError> for IpcError {
    fn from(err: nixdeck_core::disko::LayoutError) -> Self {
        IpcError::new(ErrorCode::Validation, err.to_string())
            .with_hint("The layout could not be read back as disko's; undo the last change.")
    }
}

impl From<nixdeck_core::disko::edit::EditError> for IpcError {
    fn from(err: nixdeck_core::disko::edit::EditError) -> Self {
        use nixdeck_core::disko::edit::EditError as E;
        let code = match &err {
            E::NotFound(_) => ErrorCode::NotFound,
            _ => ErrorCode::Validation,
        };
        IpcError::new(code, err.to_string())
    }
}
