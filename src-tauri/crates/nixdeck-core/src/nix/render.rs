//! Printing [`Nix`] trees in nixfmt's style: two-space indents, non-empty attribute
//! sets one binding per line, short lists of plain items on one line.

use super::{attr_name, quote_string, Binding, Nix};

/// Lines longer than this are broken, as nixfmt does.
const WIDTH: usize = 100;

/// The source text of `expr`, ending in a newline, ready to be written as a file.
pub fn render(expr: &Nix) -> String {
    let mut out = String::new();
    write_expr(&mut out, expr, 0);
    out.push('\n');
    out
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

/// Whether `expr` prints as one short token with nothing nested.
fn is_atom(expr: &Nix) -> bool {
    matches!(
        expr,
        Nix::Null
            | Nix::Bool(_)
            | Nix::Int(_)
            | Nix::Float(_)
            | Nix::Str(_)
            | Nix::Path(_)
            | Nix::Ident(_)
    )
}

fn atom(expr: &Nix) -> String {
    match expr {
        Nix::Null => "null".into(),
        Nix::Bool(b) => b.to_string(),
        Nix::Int(i) => {
            // Nix has no negative literals: `-1` parses as `0 - 1`, which evaluates fine
            // but is an operator; parenthesise so it stays one list element.
            if *i < 0 {
                format!("({i})")
            } else {
                i.to_string()
            }
        }
        Nix::Float(f) => {
            let text = if f.fract() == 0.0 && f.is_finite() {
                format!("{f:.1}")
            } else {
                format!("{f}")
            };
            if *f < 0.0 {
                format!("({text})")
            } else {
                text
            }
        }
        Nix::Str(s) => quote_string(s),
        Nix::Path(p) => p.as_str().to_string(),
        Nix::Ident(i) => i.as_str().to_string(),
        _ => unreachable!("atom() is only called on atoms"),
    }
}

/// The one-line form of `expr`, when it has one that nixfmt would keep on one line.
fn inline(expr: &Nix) -> Option<String> {
    match expr {
        e if is_atom(e) => Some(atom(e)),
        Nix::List(items) if items.is_empty() => Some("[ ]".into()),
        Nix::List(items) if items.iter().all(is_atom) => {
            let parts: Vec<String> = items.iter().map(atom).collect();
            Some(format!("[ {} ]", parts.join(" ")))
        }
        Nix::Attrs(bindings) if bindings.is_empty() => Some("{ }".into()),
        Nix::Apply(function, args) if args.iter().all(|a| is_atom(a) || is_empty(a)) => {
            let mut parts = vec![inline(function)?];
            parts.extend(args.iter().map(|a| inline(a).unwrap_or_default()));
            Some(parts.join(" "))
        }
        Nix::With(scope, body) => Some(format!("with {}; {}", inline(scope)?, inline(body)?)),
        Nix::Concat(a, b) => Some(format!("{} ++ {}", inline(a)?, inline(b)?)),
        _ => None,
    }
}

fn is_empty(expr: &Nix) -> bool {
    matches!(expr, Nix::List(v) if v.is_empty()) || matches!(expr, Nix::Attrs(v) if v.is_empty())
}

/// Writes `expr` starting at the current column; continuation lines at `level`.
fn write_expr(out: &mut String, expr: &Nix, level: usize) {
    if let Some(text) = inline(expr) {
        let column = out.rsplit('\n').next().map_or(0, str::len);
        if column + text.len() <= WIDTH || is_atom(expr) {
            out.push_str(&text);
            return;
        }
    }
    match expr {
        Nix::List(items) => {
            out.push_str("[\n");
            for item in items {
                indent(out, level + 1);
                write_list_item(out, item, level + 1);
                out.push('\n');
            }
            indent(out, level);
            out.push(']');
        }
        Nix::Attrs(bindings) => {
            out.push_str("{\n");
            write_bindings(out, bindings, level + 1);
            indent(out, level);
            out.push('}');
        }
        Nix::Lambda {
            at,
            formals,
            ellipsis,
            body,
        } => {
            if let Some(at) = at {
                out.push_str(at.as_str());
                out.push_str(" @ ");
            }
            let mut names: Vec<String> = formals.iter().map(|f| attr_name(f)).collect();
            if *ellipsis {
                names.push("...".into());
            }
            let one_line = format!("{{ {} }}:", names.join(", "));
            if one_line.len() + level * 2 <= WIDTH {
                out.push_str(&one_line);
            } else {
                out.push_str("{\n");
                for name in &names {
                    indent(out, level + 1);
                    out.push_str(name);
                    out.push_str(",\n");
                }
                indent(out, level);
                out.push_str("}:");
            }
            out.push_str("\n\n");
            indent(out, level);
            write_expr(out, body, level);
        }
        Nix::Apply(function, args) => {
            write_expr(out, function, level);
            for arg in args {
                out.push(' ');
                write_argument(out, arg, level);
            }
        }
        Nix::With(scope, body) => {
            out.push_str("with ");
            write_expr(out, scope, level);
            out.push_str("; ");
            write_expr(out, body, level);
        }
        Nix::Let(bindings, body) => {
            out.push_str("let\n");
            write_bindings(out, bindings, level + 1);
            indent(out, level);
            out.push_str("in\n");
            indent(out, level);
            write_expr(out, body, level);
        }
        Nix::Concat(a, b) => {
            write_argument(out, a, level);
            out.push_str(" ++ ");
            write_argument(out, b, level);
        }
        atom_expr => out.push_str(&atom(atom_expr)),
    }
}

/// Function arguments and operands: compound expressions other than sets and lists
/// need parentheses.
fn write_argument(out: &mut String, expr: &Nix, level: usize) {
    let needs_parens = matches!(
        expr,
        Nix::Apply(..) | Nix::Lambda { .. } | Nix::With(..) | Nix::Let(..) | Nix::Concat(..)
    ) || matches!(expr, Nix::Int(i) if *i < 0)
        || matches!(expr, Nix::Float(f) if *f < 0.0);
    if needs_parens && !matches!(expr, Nix::Int(_) | Nix::Float(_)) {
        out.push('(');
        write_expr(out, expr, level);
        out.push(')');
    } else {
        write_expr(out, expr, level);
    }
}

/// List elements are separated by whitespace, so anything compound is parenthesised.
fn write_list_item(out: &mut String, expr: &Nix, level: usize) {
    write_argument(out, expr, level);
}

fn write_bindings(out: &mut String, bindings: &[Binding], level: usize) {
    for binding in bindings {
        indent(out, level);
        match binding {
            Binding::Set(path, value) => {
                let key: Vec<String> = path.iter().map(|p| attr_name(p)).collect();
                out.push_str(&key.join("."));
                out.push_str(" = ");
                write_expr(out, value, level);
                out.push_str(";\n");
            }
            Binding::Inherit(scope, names) => {
                out.push_str("inherit ");
                if let Some(scope) = scope {
                    out.push('(');
                    out.push_str(scope.as_str());
                    out.push_str(") ");
                }
                let names: Vec<String> = names.iter().map(|n| attr_name(n)).collect();
                out.push_str(&names.join(" "));
                out.push_str(";\n");
            }
            Binding::Comment(text) => {
                let mut lines = text.lines().peekable();
                while let Some(line) = lines.next() {
                    out.push_str("# ");
                    out.push_str(line.trim_end());
                    out.push('\n');
                    if lines.peek().is_some() {
                        indent(out, level);
                    }
                }
            }
        }
    }
}
