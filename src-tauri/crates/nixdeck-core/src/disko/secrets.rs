//! What formatting a layout needs from the person installing it: the LUKS
//! volumes, and for each the file on the target disko reads its passphrase
//! from. nixdeck runs nixos-anywhere without a terminal, so a volume disko would
//! ask about interactively (no `passwordFile`, no key file) cannot be formatted
//! from nixdeck: the install refuses it before anything runs.

use super::model::*;
use super::walk::for_each_content;
use serde::Serialize;
use serde_json::Value;

/// Where disko gets one LUKS volume's passphrase when it formats it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PassphraseSource {
    /// A file on the target (`passwordFile`, `settings.keyFile` or the
    /// deprecated `keyFile`): nixdeck writes the passphrase there with
    /// `--disk-encryption-keys`.
    File {
        /// The absolute path on the target.
        remote_path: String,
        /// The option that names it (`passwordFile`, `settings.keyFile`, `keyFile`).
        option: String,
    },
    /// `enrollFido2`: disko makes a throw-away passphrase itself.
    Generated,
    /// Nothing: disko would ask on a terminal, which nixdeck never has.
    Prompt,
}

/// One LUKS volume of a layout and its passphrase source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct LuksVolumeNeed {
    /// The mapper name (`crypted`).
    pub name: String,
    /// The option path of the volume in the layout.
    pub at: String,
    /// Where disko reads its passphrase.
    pub source: PassphraseSource,
}

/// Every LUKS volume of `layout`, in layout order.
pub fn luks_volumes(layout: &DiskLayout) -> Vec<LuksVolumeNeed> {
    let mut out = Vec::new();
    for_each_content(layout, &mut |content, path| {
        let Content::Luks(luks) = content else { return };
        // disko's order: settings.keyFile wins, then (askPassword) a prompt,
        // then passwordFile, then the deprecated keyFile (lib/types/luks.nix).
        let settings_key = luks
            .settings
            .as_ref()
            .and_then(|s| s.get("keyFile"))
            .and_then(Value::as_str);
        let file = |remote: &str, option: &str| PassphraseSource::File {
            remote_path: remote.to_string(),
            option: option.to_string(),
        };
        let source = if let Some(key) = settings_key {
            file(key, "settings.keyFile")
        } else if luks.ask_password == Some(true) {
            PassphraseSource::Prompt
        } else if let Some(p) = &luks.password_file {
            file(p, "passwordFile")
        } else if let Some(k) = &luks.key_file {
            file(k, "keyFile")
        } else if luks.enroll_fido2 == Some(true) {
            PassphraseSource::Generated
        } else {
            PassphraseSource::Prompt
        };
        out.push(LuksVolumeNeed {
            name: luks.name.clone().unwrap_or_else(|| "?".into()),
            at: path.to_string(),
            source,
        });
    });
    out
}

/// The distinct target paths a passphrase must be written to for `volumes`.
pub fn passphrase_paths(volumes: &[LuksVolumeNeed]) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    for v in volumes {
        if let PassphraseSource::File { remote_path, .. } = &v.source {
            if !paths.contains(remote_path) {
                paths.push(remote_path.clone());
            }
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn layout(luks: Value) -> DiskLayout {
        crate::disko::from_json(&json!({ "disk": { "main": {
            "type": "disk", "device": "/dev/disk/by-id/x",
            "content": { "type": "gpt", "partitions": { "luks": {
                "size": "100%", "content": luks
            } } }
        } } }))
        .unwrap()
    }

    #[test]
    fn each_volume_says_where_its_passphrase_comes_from() {
        let with_file = layout(json!({ "type": "luks", "name": "crypted",
            "passwordFile": "/tmp/secret.key", "content": { "type": "filesystem", "format": "ext4", "mountpoint": "/" } }));
        let v = luks_volumes(&with_file);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].name, "crypted");
        assert_eq!(
            v[0].source,
            PassphraseSource::File {
                remote_path: "/tmp/secret.key".into(),
                option: "passwordFile".into()
            }
        );
        assert!(v[0].at.contains("luks"), "{}", v[0].at);
        assert_eq!(passphrase_paths(&v), ["/tmp/secret.key"]);

        let prompt = layout(json!({ "type": "luks", "name": "crypted" }));
        assert_eq!(luks_volumes(&prompt)[0].source, PassphraseSource::Prompt);
        assert!(passphrase_paths(&luks_volumes(&prompt)).is_empty());

        // askPassword = true prompts even with a passwordFile (disko's order).
        let asked = layout(
            json!({ "type": "luks", "name": "c", "askPassword": true, "passwordFile": "/tmp/k" }),
        );
        assert_eq!(luks_volumes(&asked)[0].source, PassphraseSource::Prompt);

        let settings = layout(
            json!({ "type": "luks", "name": "c", "settings": { "keyFile": "/tmp/disk.key" } }),
        );
        assert!(matches!(&luks_volumes(&settings)[0].source,
            PassphraseSource::File { remote_path, option } if remote_path == "/tmp/disk.key" && option == "settings.keyFile"));

        let fido = layout(json!({ "type": "luks", "name": "c", "enrollFido2": true }));
        assert_eq!(luks_volumes(&fido)[0].source, PassphraseSource::Generated);

        let plain = layout(json!({ "type": "filesystem", "format": "ext4", "mountpoint": "/" }));
        assert!(luks_volumes(&plain).is_empty());
    }
}
