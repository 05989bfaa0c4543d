//! Reading disko's evaluated JSON into the typed model, option by option, so an
//! error names the exact option (`…partitions.ESP.size: expected a string, found
//! a number`). serde's derive loses that path through tagged enums and flattened
//! maps, so the model reads itself with [`FromDisko`] and only *writes* with serde.
//!
//! Every struct keeps unknown options in `extra`, and options set to `null`
//! explicitly go there too: the typed field stays "not set", and rendering
//! writes the `null` back, so the evaluated result is unchanged.

use super::error::{LayoutError, OptionPath};
use indexmap::IndexMap;
use serde_json::{Map, Value};

/// A value that can be read from disko's JSON at a known option path.
pub(crate) trait FromDisko: Sized {
    fn from_disko(value: &Value, at: &OptionPath) -> Result<Self, LayoutError>;
}

/// What a JSON value is, in words for error messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a float",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an attribute set",
    }
}

pub(crate) fn expect_object<'v>(
    value: &'v Value,
    at: &OptionPath,
) -> Result<&'v Map<String, Value>, LayoutError> {
    value.as_object().ok_or_else(|| {
        LayoutError::invalid(
            at,
            format!("expected an attribute set, found {}", kind(value)),
        )
    })
}

/// Nix strings cannot hold a NUL character: such text is refused, not mangled.
pub(crate) fn check_text(text: &str, at: &OptionPath) -> Result<(), LayoutError> {
    if text.contains('\0') {
        Err(LayoutError::invalid(
            at,
            "the text contains a NUL character, which Nix strings cannot hold: remove it",
        ))
    } else {
        Ok(())
    }
}

/// Checks every string and attribute name inside a value kept as it is.
fn check_value_text(value: &Value, at: &OptionPath) -> Result<(), LayoutError> {
    match value {
        Value::String(s) => check_text(s, at),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| check_value_text(item, &at.index(i))),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            let child = at.child(k);
            check_text(k, &child)?;
            check_value_text(v, &child)
        }),
        _ => Ok(()),
    }
}

/// Options whose names start with `_` are disko's computed internals (`_meta`,
/// `_index`…), present only in a fully evaluated NixOS configuration and
/// read-only there: they are dropped on import, never written back.
pub(crate) fn is_internal(key: &str) -> bool {
    key.starts_with('_')
}

/// Keeps `item` under `key` in `extra`, after checking its text.
pub(crate) fn keep_extra(
    extra: &mut Map<String, Value>,
    key: &str,
    item: &Value,
    at: &OptionPath,
) -> Result<(), LayoutError> {
    let child = at.child(key);
    check_text(key, &child)?;
    check_value_text(item, &child)?;
    extra.insert(key.to_string(), item.clone());
    Ok(())
}

impl FromDisko for String {
    fn from_disko(value: &Value, at: &OptionPath) -> Result<Self, LayoutError> {
        let text = value.as_str().ok_or_else(|| {
            LayoutError::invalid(at, format!("expected a string, found {}", kind(value)))
        })?;
        check_text(text, at)?;
        Ok(text.to_string())
    }
}

impl FromDisko for bool {
    fn from_disko(value: &Value, at: &OptionPath) -> Result<Self, LayoutError> {
        value.as_bool().ok_or_else(|| {
            LayoutError::invalid(at, format!("expected true or false, found {}", kind(value)))
        })
    }
}

impl FromDisko for i64 {
    fn from_disko(value: &Value, at: &OptionPath) -> Result<Self, LayoutError> {
        value.as_i64().ok_or_else(|| {
            LayoutError::invalid(at, format!("expected an integer, found {}", kind(value)))
        })
    }
}

impl FromDisko for Value {
    fn from_disko(value: &Value, at: &OptionPath) -> Result<Self, LayoutError> {
        check_value_text(value, at)?;
        Ok(value.clone())
    }
}

impl FromDisko for Map<String, Value> {
    fn from_disko(value: &Value, at: &OptionPath) -> Result<Self, LayoutError> {
        check_value_text(value, at)?;
        expect_object(value, at).cloned()
    }
}

impl<T: FromDisko> FromDisko for Vec<T> {
    fn from_disko(value: &Value, at: &OptionPath) -> Result<Self, LayoutError> {
        let items = value.as_array().ok_or_else(|| {
            LayoutError::invalid(at, format!("expected a list, found {}", kind(value)))
        })?;
        items
            .iter()
            .enumerate()
            .map(|(i, item)| T::from_disko(item, &at.index(i)))
            .collect()
    }
}

impl<T: FromDisko> FromDisko for IndexMap<String, T> {
    fn from_disko(value: &Value, at: &OptionPath) -> Result<Self, LayoutError> {
        expect_object(value, at)?
            .iter()
            .map(|(name, item)| {
                let child = at.child(name);
                check_text(name, &child)?;
                Ok((name.clone(), T::from_disko(item, &child)?))
            })
            .collect()
    }
}

/// Declares a disko option set: a struct whose fields are all optional (unset
/// options stay unset), written with their disko names, plus `extra` for the
/// options nixdeck does not know. Fields are written in the order declared, so
/// the declaration order is the order of the rendered `disko.nix`.
macro_rules! disko_options {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $key:literal => $field:ident : $ty:ty
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                #[serde(rename = $key, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
            /// Options nixdeck has no field for (and options set to `null`), kept
            /// as they were and written back unchanged.
            #[serde(flatten)]
            pub extra: serde_json::Map<String, serde_json::Value>,
        }

        impl $crate::disko::value::FromDisko for $name {
            fn from_disko(
                value: &serde_json::Value,
                at: &$crate::disko::error::OptionPath,
            ) -> Result<Self, $crate::disko::error::LayoutError> {
                let object = $crate::disko::value::expect_object(value, at)?;
                Self::from_object(object, at, false)
            }
        }

        impl $name {
            /// Reads the options of `object`; `skip_type` when its `type` is the tag
            /// of the enclosing enum (`Content`, `Dataset`), read there.
            pub(crate) fn from_object(
                object: &serde_json::Map<String, serde_json::Value>,
                at: &$crate::disko::error::OptionPath,
                skip_type: bool,
            ) -> Result<Self, $crate::disko::error::LayoutError> {
                let mut out = Self::default();
                for (key, item) in object {
                    if $crate::disko::value::is_internal(key) || (skip_type && key == "type") {
                        continue;
                    }
                    if item.is_null() {
                        out.extra.insert(key.clone(), item.clone());
                        continue;
                    }
                    match key.as_str() {
                        $(
                            $key => {
                                out.$field = Some($crate::disko::value::FromDisko::from_disko(
                                    item,
                                    &at.child(key),
                                )?);
                            }
                        )*
                        _ => $crate::disko::value::keep_extra(&mut out.extra, key, item, at)?,
                    }
                }
                Ok(out)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let value = <serde_json::Value as serde::Deserialize>::deserialize(d)?;
                $crate::disko::value::FromDisko::from_disko(
                    &value,
                    &$crate::disko::error::OptionPath::default(),
                )
                .map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use disko_options;

impl<T: FromDisko> FromDisko for Box<T> {
    fn from_disko(value: &Value, at: &OptionPath) -> Result<Self, LayoutError> {
        T::from_disko(value, at).map(Box::new)
    }
}
