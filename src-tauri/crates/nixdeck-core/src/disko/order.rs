//! Keeping the user's order. Nix sorts attribute names when it evaluates, so a
//! `disko.nix` read through `nix-instantiate` comes back alphabetical; rendering
//! that would move a person's partitions around. This puts the names of every
//! attribute set back in the order they first appear as attribute names in the
//! source text. Names the text does not spell out (made by `genAttrs`, or with
//! interpolation) keep their evaluated order, after the others.

use serde_json::{Map, Value};
use std::collections::HashMap;

/// Reorders every attribute set in `value` by where its names first appear as
/// attribute names (`name =`, `"name" =`, `name.`) in `source`.
pub fn order_like_source(value: &mut Value, source: &str) {
    let positions = attribute_positions(source);
    reorder(value, &positions);
}

fn reorder(value: &mut Value, positions: &HashMap<String, usize>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
            // Stable: names not in the source keep their order, after the others.
            entries.sort_by_key(|(k, _)| positions.get(k).copied().unwrap_or(usize::MAX));
            let mut sorted = Map::new();
            for (k, mut v) in entries {
                reorder(&mut v, positions);
                sorted.insert(k, v);
            }
            *map = sorted;
        }
        Value::Array(items) => items.iter_mut().for_each(|v| reorder(v, positions)),
        _ => {}
    }
}

#[derive(Debug, PartialEq)]
enum Token {
    /// An identifier or a plain string (its text), at a position.
    Name(String, usize),
    /// Any other character that matters here: `=`, `.`, and the rest.
    Punct(char),
    /// `==`, a string with interpolation, and other things that are never names.
    Other,
}

/// The first position of each attribute name in `source`.
fn attribute_positions(source: &str) -> HashMap<String, usize> {
    let tokens = tokenize(source);
    let mut positions = HashMap::new();
    for pair in tokens.windows(2) {
        if let [Token::Name(name, at), Token::Punct('=' | '.')] = pair {
            positions.entry(name.clone()).or_insert(*at);
        }
    }
    positions
}

fn tokenize(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == '"' {
            let start = i;
            i += 1;
            let mut text = String::new();
            let mut plain = true;
            while i < chars.len() && chars[i] != '"' {
                match chars[i] {
                    '\\' if i + 1 < chars.len() => {
                        text.push(match chars[i + 1] {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            other => other,
                        });
                        i += 2;
                    }
                    '$' if chars.get(i + 1) == Some(&'{') => {
                        plain = false;
                        i = skip_interpolation(&chars, i + 2);
                    }
                    other => {
                        text.push(other);
                        i += 1;
                    }
                }
            }
            i += 1;
            tokens.push(if plain {
                Token::Name(text, start)
            } else {
                Token::Other
            });
        } else if c == '\'' && chars.get(i + 1) == Some(&'\'') {
            // An indented string: never an attribute name.
            i += 2;
            while i + 1 < chars.len()
                && !(chars[i] == '\''
                    && chars[i + 1] == '\''
                    && chars.get(i + 2) != Some(&'\'')
                    && chars.get(i + 2) != Some(&'$')
                    && chars.get(i + 2) != Some(&'\\'))
            {
                i += 1;
            }
            i += 2;
            tokens.push(Token::Other);
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '_' | '-' | '\''))
            {
                i += 1;
            }
            tokens.push(Token::Name(chars[start..i].iter().collect(), start));
        } else if c == '=' && chars.get(i + 1) == Some(&'=') {
            tokens.push(Token::Other);
            i += 2;
        } else {
            tokens.push(Token::Punct(c));
            i += 1;
        }
    }
    tokens
}

/// The index after the `}` closing an interpolation that starts at `i`.
fn skip_interpolation(chars: &[char], mut i: usize) -> usize {
    let mut depth = 1;
    while i < chars.len() && depth > 0 {
        match chars[i] {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_follow_the_source_and_unknown_ones_go_last() {
        let source = r#"{
          # root = comment, not a name
          disko.devices.disk.main.content.partitions = {
            boot = { size = "1M"; type = "EF02"; };
            "ESP" = { size = "512M"; mountpoint = "/boot"; };
            root.size = "100%";
          };
          x = a == b;
        }"#;
        let mut value = json!({"partitions": {"ESP": {}, "generated": {}, "boot": {}, "root": {}}, "size": 1, "mountpoint": 2});
        order_like_source(&mut value, source);
        let keys: Vec<&String> = value["partitions"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["boot", "ESP", "root", "generated"]);
    }

    #[test]
    fn strings_comments_and_interpolations_are_not_names() {
        let positions = attribute_positions(
            "{ a = \"b = 1\"; /* c = 2 */ d = ''e = 3''; \"f${g}\" = 4; \"h\\\"i\" = 5; j.k = 6; }",
        );
        let mut names: Vec<&str> = positions.keys().map(String::as_str).collect();
        names.sort();
        assert_eq!(names, ["a", "d", "h\"i", "j", "k"]);
    }
}
