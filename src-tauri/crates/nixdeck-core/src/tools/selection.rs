//! Host selection with colmena's `--on` syntax, resolved against the
//! repository's hosts so the user sees exactly which machines a deploy touches
//! before colmena runs.
//!
//! The grammar follows colmena's `NodeFilter`: a comma-separated list of rules,
//! OR'd; a rule is a glob over node names, or `@` and a glob over a node's
//! `deployment.tags`. Globs understand `*`, `?` and `[..]` (with `[!..]` and
//! ranges) and match the whole name, case-sensitively. Whitespace around the
//! filter and each rule is trimmed. A blank filter selects nothing; an empty
//! rule (`a,,b`, a trailing comma) is an error, and so is a glob colmena could
//! not compile (it panics with exit status 101 on those), so nixdeck refuses
//! them before running anything.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why an `--on` filter was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SelectionError {
    #[error("the host filter {filter:?} has an empty rule: remove the doubled or trailing comma")]
    EmptyRule { filter: String },
    #[error("the rule {rule:?} is not a valid glob ({reason}): check its brackets and stars")]
    InvalidGlob { rule: String, reason: String },
}

/// One rule of a filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "pattern", rename_all = "snake_case")]
pub enum Rule {
    /// A glob over node names (`web-*`).
    Name(String),
    /// A glob over `deployment.tags` (`@prod`).
    Tag(String),
}

/// A parsed `--on` filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeFilter {
    rules: Vec<(Rule, Glob)>,
}

impl NodeFilter {
    /// Parses `filter` as colmena would, with globs checked up front.
    pub fn parse(filter: &str) -> Result<Self, SelectionError> {
        let trimmed = filter.trim();
        if trimmed.is_empty() {
            return Ok(Self { rules: Vec::new() });
        }
        let mut rules = Vec::new();
        for raw in trimmed.split(',') {
            let rule = raw.trim();
            if rule.is_empty() {
                return Err(SelectionError::EmptyRule {
                    filter: filter.to_string(),
                });
            }
            let (kind, pattern) = match rule.strip_prefix('@') {
                Some(tag) => (Rule::Tag(tag.to_string()), tag),
                None => (Rule::Name(rule.to_string()), rule),
            };
            let glob = Glob::compile(pattern).map_err(|reason| SelectionError::InvalidGlob {
                rule: rule.to_string(),
                reason,
            })?;
            rules.push((kind, glob));
        }
        Ok(Self { rules })
    }

    /// The rules, in the order given.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().map(|(rule, _)| rule)
    }

    /// Whether the filter selects nothing at all (it was blank).
    pub fn is_blank(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether a node with this name and these tags is selected.
    pub fn matches<S: AsRef<str>>(&self, name: &str, tags: &[S]) -> bool {
        self.rules.iter().any(|(rule, glob)| match rule {
            Rule::Name(_) => glob.matches(name),
            Rule::Tag(_) => tags.iter().any(|t| glob.matches(t.as_ref())),
        })
    }
}

/// The hosts (by name, in the given order) that `filter` selects among `hosts`,
/// each given as `(name, tags)`.
pub fn select<'a, S: AsRef<str> + 'a>(
    filter: &str,
    hosts: impl IntoIterator<Item = (&'a str, &'a [S])>,
) -> Result<Vec<String>, SelectionError> {
    let filter = NodeFilter::parse(filter)?;
    Ok(hosts
        .into_iter()
        .filter(|(name, tags)| filter.matches(name, tags))
        .map(|(name, _)| name.to_string())
        .collect())
}

/// A compiled glob: whole-string, case-sensitive, like the `glob` crate's
/// `Pattern` that colmena uses (so the same filters are accepted and refused).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Glob {
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Char(char),
    AnyChar,
    AnySequence,
    Class {
        negated: bool,
        items: Vec<ClassItem>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ClassItem {
    Single(char),
    Range(char, char),
}

impl Glob {
    fn compile(pattern: &str) -> Result<Self, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '?' => {
                    tokens.push(Token::AnyChar);
                    i += 1;
                }
                '*' => {
                    let start = i;
                    while i < chars.len() && chars[i] == '*' {
                        i += 1;
                    }
                    let count = i - start;
                    if count > 2 {
                        return Err("use `*` or `**`, not three or more stars".into());
                    }
                    if count == 2 {
                        // `**` is a whole path component or nothing, as in `glob`.
                        let before_ok = start == 0 || chars[start - 1] == '/';
                        let after_ok = i == chars.len() || chars[i] == '/';
                        if !(before_ok && after_ok) {
                            return Err("`**` must stand alone between slashes".into());
                        }
                    }
                    if tokens.last() != Some(&Token::AnySequence) {
                        tokens.push(Token::AnySequence);
                    }
                }
                '[' => {
                    let (token, next) = Self::class(&chars, i)
                        .ok_or_else(|| "a `[` has no matching `]`".to_string())?;
                    tokens.push(token);
                    i = next;
                }
                c => {
                    tokens.push(Token::Char(c));
                    i += 1;
                }
            }
        }
        Ok(Self { tokens })
    }

    /// Parses a `[..]` class starting at `chars[i] == '['`; returns the token
    /// and the index after `]`. As in `glob`, a `]` right after `[` or `[!` is
    /// a member, so `[]]` is the class of `]`, and `[]` alone is invalid.
    fn class(chars: &[char], i: usize) -> Option<(Token, usize)> {
        let negated = chars.get(i + 1) == Some(&'!');
        let body_start = if negated { i + 2 } else { i + 1 };
        // The first member may be `]`, so the search starts one past it.
        let search_from = body_start + 1;
        if search_from > chars.len() {
            return None;
        }
        let close = chars[search_from..].iter().position(|c| *c == ']')? + search_from;
        let body = &chars[body_start..close];
        let mut items = Vec::new();
        let mut j = 0;
        while j < body.len() {
            if j + 2 < body.len() && body[j + 1] == '-' {
                items.push(ClassItem::Range(body[j], body[j + 2]));
                j += 3;
            } else {
                items.push(ClassItem::Single(body[j]));
                j += 1;
            }
        }
        Some((Token::Class { negated, items }, close + 1))
    }

    fn matches(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        Self::match_from(&self.tokens, &chars)
    }

    /// Iterative wildcard matching with backtracking to the last `*`: linear
    /// in practice, never exponential.
    fn match_from(tokens: &[Token], text: &[char]) -> bool {
        let (mut t, mut s) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while s < text.len() {
            match tokens.get(t) {
                Some(Token::AnySequence) => {
                    star = Some((t, s));
                    t += 1;
                    continue;
                }
                Some(tok) if Self::single(tok, text[s]) => {
                    t += 1;
                    s += 1;
                    continue;
                }
                _ => {}
            }
            match star {
                Some((st, ss)) => {
                    t = st + 1;
                    s = ss + 1;
                    star = Some((st, ss + 1));
                }
                None => return false,
            }
        }
        tokens[t.min(tokens.len())..]
            .iter()
            .all(|tok| *tok == Token::AnySequence)
    }

    fn single(token: &Token, c: char) -> bool {
        match token {
            Token::Char(x) => *x == c,
            Token::AnyChar => true,
            Token::AnySequence => false,
            Token::Class { negated, items } => {
                let hit = items.iter().any(|item| match item {
                    ClassItem::Single(x) => *x == c,
                    ClassItem::Range(lo, hi) => *lo <= c && c <= *hi,
                });
                hit != *negated
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet() -> Vec<(&'static str, Vec<&'static str>)> {
        vec![
            ("lax-alpha", vec!["web", "infra-lax"]),
            ("lax-beta", vec!["router", "infra-sfo"]),
            ("sfo-gamma", vec!["controller"]),
            ("db1", vec![]),
            ("db2", vec!["prod"]),
        ]
    }

    fn sel(filter: &str) -> Result<Vec<String>, SelectionError> {
        let hosts = fleet();
        select(filter, hosts.iter().map(|(n, t)| (*n, t.as_slice())))
    }

    #[test]
    fn names_select_exactly_and_whole() {
        assert_eq!(sel("db1").unwrap(), ["db1"]);
        assert_eq!(sel("db").unwrap(), Vec::<String>::new());
        assert_eq!(sel("DB1").unwrap(), Vec::<String>::new(), "case-sensitive");
    }

    #[test]
    fn globs_select_by_pattern() {
        assert_eq!(sel("lax-*").unwrap(), ["lax-alpha", "lax-beta"]);
        assert_eq!(sel("db?").unwrap(), ["db1", "db2"]);
        assert_eq!(sel("db[2-9]").unwrap(), ["db2"]);
        assert_eq!(sel("db[!2]").unwrap(), ["db1"]);
        assert_eq!(sel("*a").unwrap(), ["lax-alpha", "lax-beta", "sfo-gamma"]);
        assert_eq!(sel("*").unwrap().len(), 5);
        assert_eq!(sel("**").unwrap().len(), 5);
        assert_eq!(sel("l*a*a").unwrap(), ["lax-alpha", "lax-beta"]);
    }

    #[test]
    fn tags_select_by_glob() {
        assert_eq!(sel("@web").unwrap(), ["lax-alpha"]);
        assert_eq!(sel("@infra-*").unwrap(), ["lax-alpha", "lax-beta"]);
        assert_eq!(sel("@nothing").unwrap(), Vec::<String>::new());
        // A tag rule never matches names.
        assert_eq!(sel("@db1").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn mixtures_are_ored_and_trimmed() {
        assert_eq!(sel("@router, sfo-*").unwrap(), ["lax-beta", "sfo-gamma"]);
        assert_eq!(sel(" db1 ,\t@prod ").unwrap(), ["db1", "db2"]);
        // Overlapping rules select a host once, in fleet order.
        assert_eq!(sel("db2,@prod,db*").unwrap(), ["db1", "db2"]);
    }

    #[test]
    fn blank_filter_selects_nothing() {
        for blank in ["", " ", "\t", "  \n "] {
            let f = NodeFilter::parse(blank).unwrap();
            assert!(f.is_blank());
            assert!(sel(blank).unwrap().is_empty(), "{blank:?}");
        }
    }

    #[test]
    fn empty_rules_are_errors() {
        for bad in [",", "a,,b", "a,b,", " , a", "a, ,b"] {
            assert!(
                matches!(sel(bad), Err(SelectionError::EmptyRule { .. })),
                "{bad:?} must be refused"
            );
        }
    }

    #[test]
    fn invalid_globs_are_errors() {
        for bad in ["[", "db[", "[]", "[!]", "a***", "a**", "**b", "@[x"] {
            assert!(
                matches!(sel(bad), Err(SelectionError::InvalidGlob { .. })),
                "{bad:?} must be refused"
            );
        }
        // `]` right after `[` is a member, as in the glob crate.
        assert!(NodeFilter::parse("[]]").unwrap().matches::<&str>("]", &[]));
        assert!(NodeFilter::parse("[!]]").unwrap().matches::<&str>("a", &[]));
    }

    #[test]
    fn rules_are_reported() {
        let f = NodeFilter::parse("a,@b").unwrap();
        assert_eq!(
            f.rules().cloned().collect::<Vec<_>>(),
            [Rule::Name("a".into()), Rule::Tag("b".into())]
        );
    }
}
