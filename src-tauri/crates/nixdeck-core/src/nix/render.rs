//! Printing [`Nix`] trees in nixfmt's style: two-space indents, non-empty attribute
//! sets one binding per line, lists of two or more items one item per line (a
//! single plain item stays on one line), as nixfmt does.

use super::{attr_name, escape_string_body, quote_string, BinOp, Binding, Nix, StrPart};

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
        Nix::List(items) if items.len() == 1 && is_atom(&items[0]) => {
            let parts: Vec<String> = items.iter().map(atom).collect();
            Some(format!("[ {} ]", parts.join(" ")))
        }
        Nix::Attrs(bindings) if bindings.is_empty() => Some("{ }".into()),
        Nix::Apply(function, args) if args.iter().all(|a| is_atom(a) || is_empty(a)) => {
            let mut parts = vec![inline(function)?];
            parts.extend(args.iter().map(|a| inline(a).unwrap_or_default()));
            Some(parts.join(" "))
        }
        Nix::Apply(function, args) if args.iter().all(is_small_argument) => {
            let mut parts = vec![inline(function)?];
            for arg in args {
                let text = inline(arg)?;
                parts.push(if needs_argument_parens(arg) {
                    format!("({text})")
                } else {
                    text
                });
            }
            Some(parts.join(" "))
        }
        Nix::With(scope, body) => Some(format!("with {}; {}", inline(scope)?, inline(body)?)),
        Nix::Concat(a, b) => Some(format!(
            "{} ++ {}",
            inline_operand(a, expr)?,
            inline_operand(b, expr)?
        )),
        Nix::BinOp(a, op, b) => Some(format!(
            "{} {} {}",
            inline_operand(a, expr)?,
            op.symbol(),
            inline_operand(b, expr)?
        )),
        Nix::Func(param, body) => Some(format!("{}: {}", param.as_str(), inline(body)?)),
        Nix::Interp(parts) => {
            let mut text = String::from("\"");
            for (i, part) in parts.iter().enumerate() {
                match part {
                    StrPart::Text(t) => {
                        let mut body = escape_string_body(t);
                        // `$${` is Nix's escape for a literal `${`: a text part ending in
                        // `$` before an interpolation must escape that dollar.
                        if body.ends_with('$') && matches!(parts.get(i + 1), Some(StrPart::Expr(_)))
                        {
                            body.pop();
                            body.push_str("\\$");
                        }
                        text.push_str(&body);
                    }
                    StrPart::Expr(e) => {
                        text.push_str("${");
                        text.push_str(&inline(e)?);
                        text.push('}');
                    }
                }
            }
            text.push('"');
            Some(text)
        }
        Nix::Select(e, path) => {
            let base = inline(e)?;
            let base = if is_atom(e) {
                base
            } else {
                format!("({base})")
            };
            let path: Vec<String> = path.iter().map(|p| attr_name(p)).collect();
            Some(format!("{base}.{}", path.join(".")))
        }
        _ => None,
    }
}

/// How tightly an operator binds (higher: tighter), as in the Nix manual's table.
fn binding_power(expr: &Nix) -> Option<u8> {
    match expr {
        Nix::Concat(..) => Some(10),
        Nix::BinOp(_, BinOp::Add, _) => Some(8),
        Nix::BinOp(_, BinOp::Update, _) => Some(6),
        Nix::BinOp(_, BinOp::Eq, _) => Some(4),
        Nix::BinOp(_, BinOp::And, _) => Some(3),
        _ => None,
    }
}

/// Whether `expr` needs parentheses as an operand of `parent` (an operator).
fn operand_needs_parens_in(expr: &Nix, parent: &Nix) -> bool {
    if let (Some(inner), Some(outer)) = (binding_power(expr), binding_power(parent)) {
        return inner <= outer;
    }
    operand_needs_parens(expr)
}

/// Whether `expr` needs parentheses as an operand of any binary operator.
fn operand_needs_parens(expr: &Nix) -> bool {
    matches!(
        expr,
        Nix::Lambda { .. }
            | Nix::Func(..)
            | Nix::With(..)
            | Nix::Let(..)
            | Nix::Concat(..)
            | Nix::BinOp(..)
    ) || matches!(expr, Nix::Int(i) if *i < 0)
        || matches!(expr, Nix::Float(f) if *f < 0.0)
}

fn inline_operand(expr: &Nix, parent: &Nix) -> Option<String> {
    let text = inline(expr)?;
    if operand_needs_parens_in(expr, parent) && !matches!(expr, Nix::Int(_) | Nix::Float(_)) {
        Some(format!("({text})"))
    } else {
        Some(text)
    }
}

fn write_operand(out: &mut String, expr: &Nix, parent: &Nix, level: usize) {
    if operand_needs_parens_in(expr, parent) && !matches!(expr, Nix::Int(_) | Nix::Float(_)) {
        out.push('(');
        write_expr(out, expr, level);
        out.push(')');
    } else {
        write_expr(out, expr, level);
    }
}

/// Arguments that may stay on one line inside an application.
fn is_small_argument(expr: &Nix) -> bool {
    match expr {
        e if is_atom(e) || is_empty(e) => true,
        Nix::Interp(_) | Nix::Select(..) => true,
        Nix::Apply(f, args) => is_atom(f) && args.iter().all(is_small_argument),
        Nix::BinOp(a, _, b) => is_small_argument(a) && is_small_argument(b),
        Nix::Func(_, body) => is_small_argument(body),
        _ => false,
    }
}

fn needs_argument_parens(expr: &Nix) -> bool {
    matches!(
        expr,
        Nix::Apply(..)
            | Nix::Lambda { .. }
            | Nix::Func(..)
            | Nix::With(..)
            | Nix::Let(..)
            | Nix::Concat(..)
            | Nix::BinOp(..)
    ) || matches!(expr, Nix::Int(i) if *i < 0)
        || matches!(expr, Nix::Float(f) if *f < 0.0)
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
        Nix::Lambda { .. } => write_lambda(out, expr, level, true),
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
            write_operand(out, a, expr, level);
            out.push('\n');
            indent(out, level);
            out.push_str("++ ");
            write_operand(out, b, expr, level);
        }
        Nix::BinOp(a, op, b) => {
            write_operand(out, a, expr, level);
            out.push('\n');
            indent(out, level);
            out.push_str(op.symbol());
            out.push(' ');
            write_operand(out, b, expr, level);
        }
        Nix::Func(param, body) => {
            out.push_str(param.as_str());
            out.push(':');
            if matches!(**body, Nix::Attrs(_) | Nix::List(_)) {
                out.push(' ');
            } else {
                out.push('\n');
                indent(out, level);
            }
            write_expr(out, body, level);
        }
        Nix::Select(e, path) => {
            write_argument(out, e, level);
            for p in path {
                out.push('.');
                out.push_str(&attr_name(p));
            }
        }
        Nix::Interp(_) => out.push_str(&inline(expr).unwrap_or_default()),
        atom_expr => out.push_str(&atom(atom_expr)),
    }
}

/// `{ a, b, ... }: body`; at the top of a file a blank line follows the head (nixfmt),
/// as a binding's value only a line break.
fn write_lambda(out: &mut String, expr: &Nix, level: usize, blank_line: bool) {
    let Nix::Lambda {
        at,
        formals,
        ellipsis,
        body,
    } = expr
    else {
        return write_expr(out, expr, level);
    };
    if let Some(at) = at {
        out.push_str(at.as_str());
        out.push('@');
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
    out.push_str(if blank_line { "\n\n" } else { "\n" });
    indent(out, level);
    write_expr(out, body, level);
}

/// Function arguments and operands: compound expressions other than sets and lists
/// need parentheses.
fn write_argument(out: &mut String, expr: &Nix, level: usize) {
    let needs_parens = needs_argument_parens(expr);
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
                let column = level * 2 + key.iter().map(String::len).sum::<usize>() + 3;
                let fits = inline(value).is_some_and(|t| column + t.len() < WIDTH);
                match value {
                    // nixfmt puts a long function on its own lines under the name.
                    Nix::Lambda { .. } => {
                        out.push_str(" =\n");
                        indent(out, level + 1);
                        write_lambda(out, value, level + 1, false);
                    }
                    Nix::Func(_, body)
                        if !fits && !matches!(**body, Nix::Attrs(_) | Nix::List(_)) =>
                    {
                        out.push_str(" =\n");
                        indent(out, level + 1);
                        write_expr(out, value, level + 1);
                    }
                    _ => {
                        out.push_str(" = ");
                        write_expr(out, value, level);
                    }
                }
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
