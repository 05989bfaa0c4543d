//! `luks` (lib/types/luks.nix): a LUKS-encrypted device.

use super::Content;
use crate::disko::value::disko_options;
use serde_json::{Map, Value};

disko_options! {
    /// A LUKS volume (`type = "luks"`), opened as `/dev/mapper/<name>`.
    pub struct Luks {
        /// Mapper name. Required.
        "name" => name: String,
        /// Deprecated: key file for formatting (use `passwordFile` or `settings.keyFile`).
        "keyFile" => key_file: String,
        /// File holding the passphrase used when formatting.
        "passwordFile" => password_file: String,
        /// Ask for the passphrase interactively when formatting
        /// (default: true when no key or password file is given).
        "askPassword" => ask_password: bool,
        /// `boot.initrd.luks.devices.<name>` settings (`allowDiscards`, `keyFile`…).
        "settings" => settings: Map<String, Value>,
        /// More key files to add as key slots.
        "additionalKeyFiles" => additional_key_files: Vec<String>,
        /// Add a `boot.initrd.luks.devices` entry (default true).
        "initrdUnlock" => initrd_unlock: bool,
        /// Extra arguments to `cryptsetup luksFormat`.
        "extraFormatArgs" => extra_format_args: Vec<String>,
        /// Extra arguments to `cryptsetup open`.
        "extraOpenArgs" => extra_open_args: Vec<String>,
        /// Enroll a FIDO2 token (default false).
        "enrollFido2" => enroll_fido2: bool,
        /// Enroll a recovery key (default: `enrollFido2`).
        "enrollRecovery" => enroll_recovery: bool,
        /// Extra arguments to `systemd-cryptenroll` for FIDO2.
        "extraFido2EnrollArgs" => extra_fido2_enroll_args: Vec<String>,
        /// What the opened volume holds.
        "content" => content: Box<Content>,
        /// Device (default: the parent's).
        "device" => device: String,
    }
}
