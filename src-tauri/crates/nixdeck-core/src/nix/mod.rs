//! The one Nix renderer for everything nixdeck writes.
//!
//! Files are built as a small expression tree ([`Nix`]) and printed in nixfmt's
//! style. User-supplied text only ever enters the tree as a [`Nix::Str`] (always
//! escaped) or as an attribute name (quoted when it is not a plain identifier), so
//! nothing a person types can become Nix code. The few variants that carry code
//! ([`Nix::Ident`], [`Nix::Path`]) validate their text when built.

mod render;

pub use render::render;

/// Escapes `text` for the inside of a double-quoted string (no surrounding quotes).
fn escape_string_body(text: &str) -> String {
    let quoted = quote_string(text);
    quoted[1..quoted.len() - 1].to_string()
}

use thiserror::Error;

/// A Nix expression, as much of the language as nixdeck writes.
#[derive(Debug, Clone, PartialEq)]
pub enum Nix {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A string literal; any text, escaped when rendered.
    Str(String),
    /// A relative or absolute path literal such as `./hosts/web/disko.nix`.
    Path(NixPath),
    /// A variable or attribute selection such as `pkgs.git` or `disko.nixosModules.disko`.
    Ident(NixIdent),
    List(Vec<Nix>),
    /// An attribute set, bindings in the order given. A binding's key is an attribute
    /// path (`settings.PermitRootLogin`), each element escaped on its own.
    Attrs(Vec<Binding>),
    /// `{ a, b, ... }: body` (`at` gives `inputs @ { ... }:`).
    Lambda {
        at: Option<NixIdent>,
        formals: Vec<String>,
        ellipsis: bool,
        body: Box<Nix>,
    },
    /// `f arg` (arguments rendered in order).
    Apply(Box<Nix>, Vec<Nix>),
    /// `with scope; body`.
    With(Box<Nix>, Box<Nix>),
    /// `let bindings in body`.
    Let(Vec<Binding>, Box<Nix>),
    /// `a ++ b`.
    Concat(Box<Nix>, Box<Nix>),
    /// `param: body`, a one-argument function (curried: `name: type: …`).
    Func(NixIdent, Box<Nix>),
    /// `lhs op rhs` for the operators nixdeck writes besides `++`.
    BinOp(Box<Nix>, BinOp, Box<Nix>),
    /// A string with interpolations, `"/${name}"`: text parts escaped, expression parts
    /// spliced. Only nixdeck's own expressions go in [`StrPart::Expr`], never user text.
    Interp(Vec<StrPart>),
    /// `expr.a.b`, attribute selection on an expression (`(hostData name).system`).
    Select(Box<Nix>, Vec<String>),
}

/// Binary operators nixdeck writes (besides `++`, [`Nix::Concat`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+` (string and path concatenation).
    Add,
    /// `//` (attribute set update).
    Update,
    /// `==`.
    Eq,
    /// `&&`.
    And,
}

impl BinOp {
    fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Update => "//",
            BinOp::Eq => "==",
            BinOp::And => "&&",
        }
    }
}

/// One part of an interpolated string.
#[derive(Debug, Clone, PartialEq)]
pub enum StrPart {
    /// Literal text, escaped like [`quote_string`].
    Text(String),
    /// `${expr}`.
    Expr(Nix),
}

/// One binding of an attribute set or `let`.
#[derive(Debug, Clone, PartialEq)]
pub enum Binding {
    /// `a.b.c = value;`
    Set(Vec<String>, Nix),
    /// `inherit a b;` / `inherit (scope) a b;`
    Inherit(Option<NixIdent>, Vec<String>),
    /// A `# comment` line before the next binding.
    Comment(String),
}

/// Something that cannot be written as Nix.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum NixError {
    #[error(
        "`{0}` is not a Nix identifier (letters, digits, `_`, `-`, `'`, dotted for selections)"
    )]
    BadIdent(String),
    #[error("`{0}` is not a path nixdeck writes (letters, digits, `.`, `_`, `-`, `+`, `/`, starting with `./`, `../` or `/`)")]
    BadPath(String),
}

/// A validated identifier or attribute selection (`pkgs.git`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NixIdent(String);

impl NixIdent {
    pub fn new(text: impl Into<String>) -> Result<Self, NixError> {
        let text = text.into();
        if !text.is_empty() && text.split('.').all(is_plain_identifier) {
            Ok(Self(text))
        } else {
            Err(NixError::BadIdent(text))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A validated path literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NixPath(String);

impl NixPath {
    pub fn new(text: impl Into<String>) -> Result<Self, NixError> {
        let text = text.into();
        let rooted = text.starts_with("./") || text.starts_with("../") || text.starts_with('/');
        let chars_ok = text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '/'));
        let segments_ok = !text.ends_with('/') && !text.contains("//");
        if rooted && chars_ok && segments_ok && text.len() > 2 {
            Ok(Self(text))
        } else {
            Err(NixError::BadPath(text))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

const KEYWORDS: &[&str] = &[
    "if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or",
];

/// Whether `name` can be written bare as an attribute name or variable.
pub fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '\''))
        && !KEYWORDS.contains(&name)
}

/// `text` as a double-quoted Nix string literal: `"`, `\` and `${` escaped, control
/// characters written as escapes so the literal stays on one line.
pub fn quote_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An attribute name, bare when it can be, quoted otherwise.
pub fn attr_name(name: &str) -> String {
    if is_plain_identifier(name) {
        name.to_string()
    } else {
        quote_string(name)
    }
}

impl Nix {
    pub fn str(text: impl Into<String>) -> Self {
        Nix::Str(text.into())
    }
    /// An identifier known at compile time (nixdeck's own code, never user text).
    ///
    /// # Panics
    /// When `text` is not an identifier: a bug in nixdeck, caught by its tests.
    pub fn ident(text: &'static str) -> Self {
        Nix::Ident(NixIdent::new(text).expect("identifier written in nixdeck's code"))
    }
    pub fn path(text: impl Into<String>) -> Result<Self, NixError> {
        Ok(Nix::Path(NixPath::new(text)?))
    }
    pub fn attrs<K: Into<String>>(bindings: impl IntoIterator<Item = (K, Nix)>) -> Self {
        Nix::Attrs(
            bindings
                .into_iter()
                .map(|(k, v)| Binding::Set(vec![k.into()], v))
                .collect(),
        )
    }
    pub fn list(items: impl IntoIterator<Item = Nix>) -> Self {
        Nix::List(items.into_iter().collect())
    }
    pub fn apply(function: Nix, args: impl IntoIterator<Item = Nix>) -> Self {
        Nix::Apply(Box::new(function), args.into_iter().collect())
    }
    /// `param: body` with a parameter name written in nixdeck's code.
    pub fn func(param: &'static str, body: Nix) -> Self {
        Nix::Func(
            NixIdent::new(param).expect("parameter written in nixdeck's code"),
            Box::new(body),
        )
    }
    /// `lhs op rhs`.
    pub fn op(lhs: Nix, op: BinOp, rhs: Nix) -> Self {
        Nix::BinOp(Box::new(lhs), op, Box::new(rhs))
    }

    /// The Nix value of a JSON value, as `builtins.fromJSON` would give it.
    pub fn from_json(value: &serde_json::Value) -> Self {
        use serde_json::Value;
        match value {
            Value::Null => Nix::Null,
            Value::Bool(b) => Nix::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Nix::Int(i),
                None => Nix::Float(n.as_f64().unwrap_or(0.0)),
            },
            Value::String(s) => Nix::Str(s.clone()),
            Value::Array(items) => Nix::List(items.iter().map(Nix::from_json).collect()),
            Value::Object(map) => Nix::Attrs(
                map.iter()
                    .map(|(k, v)| Binding::Set(vec![k.clone()], Nix::from_json(v)))
                    .collect(),
            ),
        }
    }
}

impl Binding {
    /// `path.to.attr = value;` with the path given as dotted text of plain names.
    /// Use [`Binding::Set`] directly when an element may need quoting.
    pub fn dotted(path: &str, value: Nix) -> Self {
        Binding::Set(path.split('.').map(str::to_string).collect(), value)
    }
}

#[cfg(test)]
mod tests;
