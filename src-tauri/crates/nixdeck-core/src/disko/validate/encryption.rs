//! LUKS: a passphrase source when formatting, and an unlock at boot for `/`.

use super::{Diagnostic, Rule};
use crate::disko::model::*;
use crate::disko::walk::{for_each_content, mounts_on};
use serde_json::Value;

/// Encrypted volumes: a passphrase source for formatting, and an unlock at boot
/// for the one holding `/`.
pub(super) fn check_passphrases(layout: &DiskLayout, out: &mut Vec<Diagnostic>) {
    for_each_content(layout, &mut |content, path| {
        let Content::Luks(luks) = content else { return };
        let name = luks.name.as_deref().unwrap_or("?");
        let settings_key = luks
            .settings
            .as_ref()
            .and_then(|s| s.get("keyFile"))
            .filter(|v| !v.is_null());
        let has_source = luks.password_file.is_some()
            || luks.key_file.is_some()
            || settings_key.is_some()
            || luks.enroll_fido2 == Some(true);
        if luks.ask_password == Some(false) && !has_source {
            out.push(Diagnostic::error(
                Rule::NoPassphrase,
                &path.child("askPassword"),
                format!("LUKS volume `{name}` gets no passphrase: with askPassword = false set passwordFile (nixos-anywhere copies it with --disk-encryption-keys) or settings.keyFile, or set askPassword = true"),
            ));
        }
        let holds_root = mounts_on(layout, content, path)
            .iter()
            .any(|m| m.mountpoint == "/");
        if !holds_root {
            return;
        }
        if luks.initrd_unlock == Some(false) {
            out.push(Diagnostic::error(
                Rule::NoPassphrase,
                &path.child("initrdUnlock"),
                format!("`/` is inside LUKS volume `{name}` but initrdUnlock = false, so nothing unlocks it at boot: remove initrdUnlock or set it to true"),
            ));
        } else if let Some(Value::String(key)) = settings_key {
            let fallback = luks
                .settings
                .as_ref()
                .and_then(|s| s.get("fallbackToPassword"))
                == Some(&Value::Bool(true));
            if !fallback {
                out.push(Diagnostic::warning(
                    Rule::NoPassphrase,
                    &path.child("settings").child("keyFile"),
                    format!("`/` is unlocked at boot only with the key file `{key}`, which must then exist in the initrd: set settings.fallbackToPassword = true to be asked for the passphrase instead"),
                ));
            }
        }
    });
}
