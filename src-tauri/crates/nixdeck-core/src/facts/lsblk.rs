//! Parsing `lsblk --json -b` output of every util-linux vintage into [`BlockDevice`]s.
//! (Owned by the SSH probe work: see issue "SSH probe".)

use super::BlockDevice;
use thiserror::Error;

/// Output of `lsblk` that cannot be understood.
#[derive(Debug, Error)]
pub enum LsblkError {
    #[error("lsblk printed invalid JSON ({0}); util-linux 2.38.0 does this for some columns: ask for named columns only")]
    Json(String),
}

/// Parses `lsblk --json --bytes -o …` output.
pub fn parse(_json: &str) -> Result<Vec<BlockDevice>, LsblkError> {
    Err(LsblkError::Json("lsblk parser not written yet".into()))
}
