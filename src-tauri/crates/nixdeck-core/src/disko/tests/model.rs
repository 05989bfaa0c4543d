use crate::disko::*;
use serde_json::json;

fn article() -> serde_json::Value {
    json!({"disko": {"devices": {"disk": {"main": {
        "device": "/dev/sda", "type": "disk",
        "content": {"type": "gpt", "partitions": {
            "ESP": {"type": "EF00", "size": "512M", "content": {
                "type": "filesystem", "format": "vfat", "mountpoint": "/boot",
                "mountOptions": ["umask=0077"]}},
            "root": {"size": "100%", "content": {
                "type": "filesystem", "format": "ext4", "mountpoint": "/"}}
        }}
    }}}}})
}

#[test]
fn the_article_layout_renders_in_the_article_shape() {
    let layout = from_json(&article()).unwrap();
    let text = render(&layout);
    let expected = r#"{
  disko.devices = {
    disk = {
      main = {
        device = "/dev/sda";
        type = "disk";
        content = {
          type = "gpt";
          partitions = {
            ESP = {
              type = "EF00";
              size = "512M";
              content = {
                type = "filesystem";
                format = "vfat";
                mountpoint = "/boot";
                mountOptions = [ "umask=0077" ];
              };
            };
            root = {
              size = "100%";
              content = {
                type = "filesystem";
                format = "ext4";
                mountpoint = "/";
              };
            };
          };
        };
      };
    };
  };
}
"#;
    assert_eq!(text, expected);
}

#[test]
fn import_keeps_unknown_options_and_explicit_nulls() {
    let value = json!({"disk": {"d": {"device": "/dev/vda", "futureOption": {"a": 1},
        "content": {"type": "gpt", "partitions": {"p": {"size": "1G", "hybrid": null,
            "content": {"type": "verity", "whatever": [1, 2]}}}}}}});
    let layout = from_json(&value).unwrap();
    let disk = &layout.disk.as_ref().unwrap()["d"];
    assert_eq!(disk.extra["futureOption"], json!({"a": 1}));
    let Some(Content::Gpt(gpt)) = disk.content.as_deref() else {
        panic!("gpt")
    };
    let part = &gpt.partitions.as_ref().unwrap()["p"];
    assert!(part.hybrid.is_none());
    assert_eq!(part.extra["hybrid"], serde_json::Value::Null);
    assert!(matches!(part.content.as_deref(), Some(Content::Other(_))));
    assert_eq!(to_json(&layout), value);
}

#[test]
fn import_errors_name_the_option_path() {
    let value = json!({"disk": {"main": {"device": "/dev/sda",
        "content": {"type": "gpt", "partitions": {"ESP": {"size": 512}}}}}});
    let err = from_json(&value).unwrap_err();
    assert_eq!(
        err.to_string(),
        "disko.devices.disk.main.content.partitions.ESP.size: expected a string, found an integer"
    );
    let err =
        from_json(&json!({"disk": {"my disk": {"content": {"format": "ext4"}}}})).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("disko.devices.disk.\"my disk\".content: content has no `type`"),
        "{err}"
    );
    assert!(matches!(
        from_json(&json!({"services": {}})),
        Err(LayoutError::NotALayout(_))
    ));
    assert!(matches!(
        from_json(&json!([1])),
        Err(LayoutError::NotALayout(_))
    ));
}

#[test]
fn the_json_model_reads_back_through_serde() {
    let layout = from_json(&article()).unwrap();
    let text = serde_json::to_string(&layout).unwrap();
    let back: DiskLayout = serde_json::from_str(&text).unwrap();
    assert_eq!(back, layout);
}

#[test]
fn nul_characters_are_refused_with_their_path() {
    let err = from_json(&json!({"disk": {"main": {"device": "/dev/sda\u{0}"}}})).unwrap_err();
    assert_eq!(err.to_string(), "disko.devices.disk.main.device: the text contains a NUL character, which Nix strings cannot hold: remove it");
    let err =
        from_json(&json!({"disk": {"main": {"futureOption": ["ok", "bad\u{0}"]}}})).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("disko.devices.disk.main.futureOption[1]:"),
        "{err}"
    );
    assert!(from_json(&json!({"disk": {"a\u{0}": {}}})).is_err());
}

#[test]
fn disko_internal_options_are_dropped() {
    let layout = from_json(&json!({"disk": {"main": {"device": "/dev/sda", "_meta": {"x": 1},
        "content": {"type": "gpt", "_parent": null, "partitions": {"p": {"_index": 1, "size": "1G"}}}}}})).unwrap();
    assert_eq!(
        to_json(&layout),
        json!({"disk": {"main": {"device": "/dev/sda",
        "content": {"type": "gpt", "partitions": {"p": {"size": "1G"}}}}}})
    );
}
