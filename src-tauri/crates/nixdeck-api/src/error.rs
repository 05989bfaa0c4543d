//! The one place where library errors become what a person sees: a small
//! [`ErrorCode`] the window may branch on, a `message` in words, and a `hint` on
//! what to do. The window and the command line print the same three things.

use nixdeck_engine::ssh::SshError;
use serde::Serialize;
use ts_rs::TS;

/// What kind of failure it is, so a front end can choose how to show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Something typed, chosen or read is not acceptable; the message says what.
    Validation,
    /// The host presents another key than the one recorded (or a revoked one).
    HostKeyMismatch,
    /// First contact: the host's key is not recorded yet.
    HostKeyUnknown,
    /// The login was refused, or the key/agent could not be used.
    AuthFailed,
    /// Nothing answered, or it did not speak SSH.
    Unreachable,
    /// A tool nixdeck runs (nix, git) is missing or cannot start.
    ToolMissing,
    /// A process or remote command failed.
    ProcessFailed,
    /// The request clashes with the state of things (a running job, an edited file).
    Conflict,
    /// The job was cancelled.
    Cancelled,
    /// After this install or deploy nobody this machine speaks for could log in
    /// to the host; the request may be repeated with `allow_lockout`.
    Lockout,
    /// The repository, host, file or job does not exist.
    NotFound,
    /// A fault of nixdeck or its surroundings (a store that cannot be opened).
    Internal,
}

/// An error from an API function: what kind, what happened, what to do.
#[derive(Debug, Clone, Serialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// What kind of failure (front ends branch on this, never on the text).
    pub code: ErrorCode,
    /// What happened, in words.
    pub message: String,
    /// What the person can do about it.
    pub hint: Option<String>,
}

/// The result of every API function.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error without a hint.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            hint: None,
        }
    }

    /// The same error with what to do about it.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// A [`ErrorCode::Validation`] error.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Validation, message)
    }

    /// A [`ErrorCode::NotFound`] error.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }
}

impl From<std::io::Error> for ApiError {
    fn from(err: std::io::Error) -> Self {
        let code = if err.kind() == std::io::ErrorKind::NotFound {
            ErrorCode::NotFound
        } else {
            ErrorCode::Internal
        };
        ApiError::new(code, err.to_string())
    }
}

impl From<nixdeck_core::repo::NameError> for ApiError {
    fn from(err: nixdeck_core::repo::NameError) -> Self {
        ApiError::invalid(err.to_string())
    }
}

impl From<nixdeck_engine::repo::RepoError> for ApiError {
    fn from(err: nixdeck_engine::repo::RepoError) -> Self {
        use nixdeck_engine::repo::RepoError as E;
        let (code, hint) = match &err {
            E::Invalid(_) => (ErrorCode::Validation, None),
            E::NotADirectory(_) | E::NotARepository(_) | E::NoSuchHost(_) => {
                (ErrorCode::NotFound, None)
            }
            E::NeedsConfirmation { .. } | E::ChangedSincePlan(_) => (
                ErrorCode::Conflict,
                Some("Review the differences again and confirm the files you mean to replace."),
            ),
            E::AlreadyARepository(_) | E::HostExists(_) => (ErrorCode::Conflict, None),
            E::Git(_) => (
                ErrorCode::ToolMissing,
                Some("nixdeck needs git (Debian: `apt install git`) with user.name and user.email set."),
            ),
            E::Io { .. } => (ErrorCode::Internal, None),
        };
        let out = ApiError::new(code, err.to_string());
        match hint {
            Some(h) => out.with_hint(h),
            None => out,
        }
    }
}

/// The code of an SSH failure, by variant (never by text).
pub(crate) fn ssh_code(err: &SshError) -> ErrorCode {
    match err {
        SshError::HostKeyMismatch { .. } | SshError::HostKeyRevoked { .. } => {
            ErrorCode::HostKeyMismatch
        }
        SshError::HostKeyUnknown { .. } => ErrorCode::HostKeyUnknown,
        SshError::AuthFailed { .. } | SshError::KeyFile { .. } | SshError::Agent(_) => {
            ErrorCode::AuthFailed
        }
        SshError::Unreachable { .. } | SshError::Timeout { .. } | SshError::Handshake { .. } => {
            ErrorCode::Unreachable
        }
        SshError::HostCertificate { .. } => ErrorCode::HostKeyMismatch,
        SshError::Jump { .. } | SshError::ProxyCommand { .. } => ErrorCode::Unreachable,
        SshError::BadTarget { .. } | SshError::Config { .. } => ErrorCode::Validation,
        _ => ErrorCode::ProcessFailed,
    }
}

impl From<SshError> for ApiError {
    fn from(err: SshError) -> Self {
        ApiError::new(ssh_code(&err), err.to_string()).with_hint(err.hint())
    }
}

impl From<nixdeck_engine::probe::ProbeError> for ApiError {
    fn from(err: nixdeck_engine::probe::ProbeError) -> Self {
        use nixdeck_engine::probe::ProbeError as E;
        let code = match &err {
            E::Ssh(e) => ssh_code(e),
            E::SudoRequired { .. } => ErrorCode::AuthFailed,
            _ => ErrorCode::ProcessFailed,
        };
        ApiError::new(code, err.to_string()).with_hint(err.hint())
    }
}

impl From<nixdeck_core::disko::LayoutError> for ApiError {
    fn from(err: nixdeck_core::disko::LayoutError) -> Self {
        ApiError::invalid(err.to_string())
            .with_hint("The layout could not be read back as disko's; undo the last change.")
    }
}

impl From<nixdeck_core::disko::edit::EditError> for ApiError {
    fn from(err: nixdeck_core::disko::edit::EditError) -> Self {
        use nixdeck_core::disko::edit::EditError as E;
        let code = match &err {
            E::NotFound(_) => ErrorCode::NotFound,
            _ => ErrorCode::Validation,
        };
        ApiError::new(code, err.to_string())
    }
}

impl From<nixdeck_engine::disko_file::DiskoFileError> for ApiError {
    fn from(err: nixdeck_engine::disko_file::DiskoFileError) -> Self {
        ApiError::invalid(err.to_string()).with_hint(
            "Fix the file so `nix-instantiate --eval` can read it, or start from a template.",
        )
    }
}

impl From<nixdeck_engine::jobs::JobError> for ApiError {
    fn from(err: nixdeck_engine::jobs::JobError) -> Self {
        use nixdeck_engine::jobs::JobError as E;
        use nixdeck_engine::runner::RunError;
        let (code, hint) = match &err {
            E::NotFound(_) => (ErrorCode::NotFound, None),
            E::HostBusy { .. } => (
                ErrorCode::Conflict,
                Some("Wait for the running job to end, or cancel it on its job page."),
            ),
            E::NotRunningHere(_) => (
                ErrorCode::Conflict,
                Some("Only the nixdeck that started a job can cancel it."),
            ),
            E::HoldsSecrets(_) => (
                ErrorCode::Conflict,
                Some("Cancel the job, or stay until it ends."),
            ),
            E::Run(RunError::ToolMissing { .. }) => (
                ErrorCode::ToolMissing,
                Some("Install Nix (Debian: `apt install nix-bin`) and check `nixdeck doctor`."),
            ),
            E::Plan(_) | E::DeployPlan(_) | E::NothingSelected(_) => (ErrorCode::Validation, None),
            E::LogRead {
                source:
                    nixdeck_engine::jobs::log::LogError::EmptyQuery
                    | nixdeck_engine::jobs::log::LogError::MultiLineQuery
                    | nixdeck_engine::jobs::log::LogError::QueryTooLong,
                ..
            } => (ErrorCode::Validation, None),
            _ => (ErrorCode::Internal, None),
        };
        let out = ApiError::new(code, err.to_string());
        match hint {
            Some(h) => out.with_hint(h),
            None => out,
        }
    }
}

impl From<nixdeck_core::tools::plan::PlanError> for ApiError {
    fn from(err: nixdeck_core::tools::plan::PlanError) -> Self {
        ApiError::invalid(err.to_string())
    }
}

impl From<nixdeck_engine::install::InstallCheckError> for ApiError {
    fn from(err: nixdeck_engine::install::InstallCheckError) -> Self {
        use nixdeck_engine::install::InstallCheckError as E;
        match err {
            E::Layout(e) => ApiError::invalid(e.to_string()).with_hint(
                "The host needs a disk layout (hosts/<host>/disko.nix) before it can be installed.",
            ),
            E::Probe(e) => ApiError::from(e),
            E::Preflight(e) => ApiError::invalid(e.to_string()).with_hint(
                "Fix the errors on the target (or in the layout), or acknowledge the warnings, then try again.",
            ),
            e @ E::DisksChanged { .. } => ApiError::new(ErrorCode::Conflict, e.to_string())
                .with_hint(
                    "Probe the host again and review the layout against the disks it has now.",
                ),
        }
    }
}
