//! What changed between two JSON values, as a [`Delta`] the window applies to
//! the value it holds. An answer the window already has most of (the layout
//! editor's view after one edit: 24 disks make 80 KB of which a size edit
//! changes a few hundred bytes) crosses the webview's IPC as its delta: that
//! IPC costs about a millisecond per 8 KB, far more than computing the delta.
//!
//! Applying a delta is pure data plumbing (`ui/src/lib/ipc/delta.ts`), no rule
//! of the domain: the result is the new value, key order included, since
//! serde_json here keeps object keys in order and the layout's order is the
//! order disko creates partitions in.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;

/// Strings at least this long (in UTF-16 units) change by [`Delta::Text`];
/// shorter ones are sent whole.
const LONG_TEXT: usize = 256;

/// How a JSON value changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Delta {
    /// Replaced by this value.
    Set(Value),
    /// An object whose keys kept their order: these fields changed or were
    /// added (added ones come last, in this order), these were removed.
    Fields {
        /// Field name and how it changed.
        changed: Vec<(String, Delta)>,
        /// Names of the fields that are gone.
        removed: Vec<String>,
    },
    /// An array of the same length: these items changed (index, how).
    Items(Vec<(u32, Delta)>),
    /// An array whose length changed: the items from `start` up to the last
    /// `tail` are replaced by `with`.
    Splice {
        /// Items kept at the start.
        start: u32,
        /// Items kept at the end.
        tail: u32,
        /// What comes between.
        with: Vec<Value>,
    },
    /// A long string: the UTF-16 code units from `start` up to the last
    /// `tail` (JavaScript's string indices) are replaced by `with`.
    Text {
        /// Code units kept at the start.
        start: u32,
        /// Code units kept at the end.
        tail: u32,
        /// What comes between.
        with: String,
    },
}

/// How `new` differs from `old`; `None` when they are equal.
pub fn diff(old: &Value, new: &Value) -> Option<Delta> {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) if keeps_order(a, b) => {
            let changed: Vec<(String, Delta)> = b
                .iter()
                .filter_map(|(key, value)| {
                    let change = match a.get(key) {
                        Some(was) => diff(was, value)?,
                        None => Delta::Set(value.clone()),
                    };
                    Some((key.clone(), change))
                })
                .collect();
            let removed: Vec<String> = a.keys().filter(|k| !b.contains_key(*k)).cloned().collect();
            (!changed.is_empty() || !removed.is_empty())
                .then_some(Delta::Fields { changed, removed })
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            let items: Vec<(u32, Delta)> = a
                .iter()
                .zip(b)
                .enumerate()
                .filter_map(|(i, (was, is))| Some((index(i), diff(was, is)?)))
                .collect();
            (!items.is_empty()).then_some(Delta::Items(items))
        }
        (Value::Array(a), Value::Array(b)) => {
            let (start, tail) = common_ends(a, b, same);
            Some(Delta::Splice {
                start: index(start),
                tail: index(tail),
                with: b[start..b.len() - tail].to_vec(),
            })
        }
        (Value::String(a), Value::String(b)) if a == b => None,
        (Value::String(a), Value::String(b)) if b.len() >= LONG_TEXT => Some(text_splice(a, b)),
        _ if same(old, new) => None,
        _ => Some(Delta::Set(new.clone())),
    }
}

/// `old` with `delta` applied. A delta that does not fit `old` (it was made
/// against another value) is an error, so a caller can fall back to asking
/// for the whole value.
pub fn apply(old: &Value, delta: &Delta) -> Result<Value, String> {
    match (old, delta) {
        (_, Delta::Set(value)) => Ok(value.clone()),
        (Value::Object(a), Delta::Fields { changed, removed }) => {
            let mut out: Map<String, Value> = a
                .iter()
                .filter(|(k, _)| !removed.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            for (key, change) in changed {
                let value = match out.get(key) {
                    Some(was) => apply(was, change)?,
                    None => apply(&Value::Null, change)?,
                };
                out.insert(key.clone(), value);
            }
            Ok(Value::Object(out))
        }
        (Value::Array(a), Delta::Items(changed)) => {
            let mut out = a.clone();
            for (i, change) in changed {
                let item = out
                    .get_mut(*i as usize)
                    .ok_or_else(|| format!("item {i} of an array of {}", a.len()))?;
                *item = apply(item, change)?;
            }
            Ok(Value::Array(out))
        }
        (Value::Array(a), Delta::Splice { start, tail, with }) => splice(
            a,
            *start,
            *tail,
            with.iter().cloned(),
            "items kept of an array",
        )
        .map(Value::Array),
        (Value::String(a), Delta::Text { start, tail, with }) => {
            let units: Vec<u16> = a.encode_utf16().collect();
            let out = splice(
                &units,
                *start,
                *tail,
                with.encode_utf16(),
                "code units kept of a string",
            )?;
            String::from_utf16(&out)
                .map(Value::String)
                .map_err(|e| e.to_string())
        }
        (old, delta) => Err(format!("{delta:?} does not apply to {old}")),
    }
}

/// `items` with everything from `start` up to the last `tail` replaced by
/// `middle`; an error naming `what` when `items` is shorter than what is kept.
fn splice<T: Clone>(
    items: &[T],
    start: u32,
    tail: u32,
    middle: impl Iterator<Item = T>,
    what: &str,
) -> Result<Vec<T>, String> {
    let (start, tail) = (start as usize, tail as usize);
    if start + tail > items.len() {
        return Err(format!("{start} + {tail} {what} of {}", items.len()));
    }
    let mut out = items[..start].to_vec();
    out.extend(middle);
    out.extend_from_slice(&items[items.len() - tail..]);
    Ok(out)
}

/// Whether `new`'s keys are `old`'s, less the removed ones, in the same
/// order, followed by the added ones: what applying fields one by one gives.
fn keeps_order(old: &Map<String, Value>, new: &Map<String, Value>) -> bool {
    let kept = old.keys().filter(|k| new.contains_key(*k));
    let mut new_keys = new.keys();
    kept.zip(new_keys.by_ref()).all(|(a, b)| a == b) && new_keys.all(|k| !old.contains_key(k))
}

/// Equal, objects' key order included (serde_json's equality ignores it,
/// and moving a partition changes nothing else).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        _ => a == b,
    }
}

/// How many items `a` and `b` share at their start, and then at their end.
fn common_ends<T>(a: &[T], b: &[T], eq: impl Fn(&T, &T) -> bool) -> (usize, usize) {
    let start = a.iter().zip(b).take_while(|(x, y)| eq(x, y)).count();
    let end = a[start..]
        .iter()
        .rev()
        .zip(b[start..].iter().rev())
        .take_while(|(x, y)| eq(x, y))
        .count();
    (start, end)
}

fn text_splice(a: &str, b: &str) -> Delta {
    let a: Vec<u16> = a.encode_utf16().collect();
    let b: Vec<u16> = b.encode_utf16().collect();
    let (mut start, mut tail) = common_ends(&a, &b, |x, y| x == y);
    // Never cut a surrogate pair: both halves go with the changed middle.
    let low = |u: u16| (0xDC00..0xE000).contains(&u);
    while start > 0 && start < b.len() && low(b[start]) {
        start -= 1;
    }
    while tail > 0 && low(b[b.len() - tail]) {
        tail -= 1;
    }
    let with = String::from_utf16_lossy(&b[start..b.len() - tail]);
    Delta::Text {
        start: index(start),
        tail: index(tail),
        with,
    }
}

fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(old: Value, new: Value) -> Option<Delta> {
        let delta = diff(&old, &new);
        let applied = match &delta {
            Some(d) => apply(&old, d).expect("the delta applies to the value it was made on"),
            None => old.clone(),
        };
        assert_eq!(applied, new);
        // Key order too: serde_json keeps it, and equality ignores it.
        assert_eq!(applied.to_string(), new.to_string());
        delta
    }

    #[test]
    fn equal_values_have_no_delta() {
        assert_eq!(round_trip(json!({"a": [1, 2]}), json!({"a": [1, 2]})), None);
    }

    #[test]
    fn a_changed_field_deep_in_an_object_is_all_that_is_sent() {
        let old =
            json!({"disk": {"a": {"size": "1G", "big": "x".repeat(500)}, "b": {"size": "2G"}}});
        let mut new = old.clone();
        new["disk"]["a"]["size"] = json!("3G");
        let delta = round_trip(old, new).expect("a change");
        let sent = serde_json::to_string(&delta).expect("serializes");
        assert!(
            sent.contains("3G") && !sent.contains("xxxx") && !sent.contains("2G"),
            "{sent}"
        );
    }

    #[test]
    fn added_and_removed_fields_keep_the_order_of_the_new_object() {
        round_trip(
            json!({"a": 1, "b": 2, "c": 3}),
            json!({"a": 1, "c": 4, "d": 5}),
        );
        // A field renamed in place moves: the object is sent whole.
        let delta = round_trip(
            json!({"a": 1, "b": 2, "c": 3}),
            json!({"a": 1, "x": 2, "c": 3}),
        );
        assert!(matches!(delta, Some(Delta::Set(_))), "{delta:?}");
        // Reordered keys: whole as well.
        let delta = round_trip(json!({"a": 1, "b": 2}), json!({"b": 2, "a": 1}));
        assert!(matches!(delta, Some(Delta::Set(_))), "{delta:?}");
    }

    #[test]
    fn arrays_change_item_by_item_or_by_a_splice_of_their_middle() {
        let delta = round_trip(json!([1, {"x": 1}, 3]), json!([1, {"x": 2}, 3]));
        assert!(
            matches!(delta, Some(Delta::Items(ref i)) if i.len() == 1),
            "{delta:?}"
        );
        let delta = round_trip(json!([1, 2, 3, 4]), json!([1, 9, 9, 9, 4]));
        assert_eq!(
            delta,
            Some(Delta::Splice {
                start: 1,
                tail: 1,
                with: vec![json!(9), json!(9), json!(9)]
            })
        );
        round_trip(json!([1, 2, 3]), json!([]));
        round_trip(json!([]), json!([1]));
        round_trip(json!([1, 1]), json!([1, 1, 1]));
    }

    #[test]
    fn long_text_sends_only_its_changed_middle_without_cutting_characters() {
        let line = |size: &str| {
            format!(
                "{}\n  size = \"{size}\";\n{}",
                "a".repeat(300),
                "b".repeat(300)
            )
        };
        let delta = round_trip(json!(line("1G")), json!(line("20G"))).expect("a change");
        assert!(
            matches!(delta, Delta::Text { ref with, .. } if with.len() < 10),
            "{delta:?}"
        );
        // Characters outside the BMP are two UTF-16 units; a change between
        // two of them that share their first unit keeps both whole.
        let pad = "é".repeat(300);
        round_trip(
            json!(format!("{pad}😀{pad}")),
            json!(format!("{pad}😁{pad}")),
        );
        round_trip(json!(format!("{pad}😀")), json!(format!("{pad}x😀")));
        round_trip(json!(pad.clone()), json!(format!("{pad}{pad}")));
        // Short strings are sent whole.
        assert_eq!(
            round_trip(json!("ab"), json!("ac")),
            Some(Delta::Set(json!("ac")))
        );
    }

    #[test]
    fn a_delta_made_on_another_value_is_refused() {
        let delta = diff(&json!([1, 2, 3]), &json!([1, 2])).expect("a change");
        assert!(apply(&json!([1]), &delta).is_err());
        assert!(apply(&json!("text"), &delta).is_err());
    }
}
