use super::*;

#[test]
fn strings_escape_quotes_backslashes_and_interpolation() {
    assert_eq!(quote_string(r#"a"b"#), r#""a\"b""#);
    assert_eq!(quote_string(r"a\b"), r#""a\\b""#);
    assert_eq!(quote_string("${evil}"), r#""\${evil}""#);
    assert_eq!(quote_string("$x ${"), r#""$x \${""#);
    assert_eq!(quote_string("a\nb\tc\r"), r#""a\nb\tc\r""#);
    assert_eq!(quote_string("héllo ✓"), "\"héllo ✓\"");
}

#[test]
fn attribute_names_are_bare_only_when_plain() {
    assert_eq!(attr_name("main"), "main");
    assert_eq!(attr_name("my-server"), "my-server");
    assert_eq!(attr_name("ESP"), "ESP");
    assert_eq!(attr_name("@"), "\"@\"");
    assert_eq!(attr_name("/home"), "\"/home\"");
    assert_eq!(attr_name("1abc"), "\"1abc\"");
    assert_eq!(attr_name("in"), "\"in\"");
    assert_eq!(attr_name(""), "\"\"");
    assert_eq!(attr_name("a.b"), "\"a.b\"");
}

#[test]
fn idents_and_paths_refuse_code() {
    assert!(NixIdent::new("pkgs.git").is_ok());
    assert!(NixIdent::new("pkgs; builtins.exec").is_err());
    assert!(NixIdent::new("a..b").is_err());
    assert!(NixPath::new("./hosts/web-1/disko.nix").is_ok());
    assert!(NixPath::new("./hosts/${x}/disko.nix").is_err());
    assert!(NixPath::new("hosts/x").is_err());
    assert!(NixPath::new("./a b").is_err());
}

#[test]
fn renders_in_nixfmt_shape() {
    let expr = Nix::Lambda {
        at: None,
        formals: vec!["pkgs".into()],
        ellipsis: true,
        body: Box::new(Nix::Attrs(vec![
            Binding::Set(
                vec!["imports".into()],
                Nix::list([Nix::path("./disko.nix").unwrap()]),
            ),
            Binding::dotted("networking.hostName", Nix::str("my-server")),
            Binding::dotted(
                "environment.systemPackages",
                Nix::With(
                    Box::new(Nix::ident("pkgs")),
                    Box::new(Nix::list([Nix::ident("git"), Nix::ident("vim")])),
                ),
            ),
            Binding::dotted(
                "services.openssh",
                Nix::attrs([("enable", Nix::Bool(true))]),
            ),
            Binding::dotted("empty", Nix::attrs(Vec::<(String, Nix)>::new())),
        ])),
    };
    let text = render(&expr);
    assert_eq!(
        text,
        "{ pkgs, ... }:\n\n{\n  imports = [ ./disko.nix ];\n  networking.hostName = \"my-server\";\n  environment.systemPackages = with pkgs; [\n    git\n    vim\n  ];\n  services.openssh = {\n    enable = true;\n  };\n  empty = { };\n}\n"
    );
}

#[test]
fn long_lists_break_one_item_per_line() {
    let items: Vec<Nix> = (0..12)
        .map(|i| Nix::str(format!("item-number-{i}")))
        .collect();
    let text = render(&Nix::List(items));
    assert!(text.starts_with("[\n  \"item-number-0\"\n"), "{text}");
    assert!(text.ends_with("]\n"));
}

#[test]
fn negative_numbers_and_applications_are_parenthesised_in_lists() {
    let text = render(&Nix::list([
        Nix::Int(-3),
        Nix::apply(Nix::ident("import"), [Nix::path("./x.nix").unwrap()]),
    ]));
    assert_eq!(text, "[\n  (-3)\n  (import ./x.nix)\n]\n");
}

#[test]
fn json_values_map_to_nix_values() {
    let value = serde_json::json!({"a": [1, -2, 1.5, "x${y}", null, true], "b c": {}});
    let text = render(&Nix::from_json(&value));
    assert!(text.contains("\"b c\" = { };"), "{text}");
    assert!(text.contains("\"x\\${y}\""), "{text}");
}

#[test]
fn interpolation_and_operators_render_with_the_right_parentheses() {
    let path = Nix::op(
        Nix::path("./hosts").unwrap(),
        BinOp::Add,
        Nix::Interp(vec![
            StrPart::Text("/a$".into()),
            StrPart::Expr(Nix::ident("name")),
            StrPart::Text("${x}".into()),
        ]),
    );
    assert_eq!(render(&path), "./hosts + \"/a\\$${name}\\${x}\"\n");
    let and = Nix::op(
        Nix::op(Nix::ident("a"), BinOp::Eq, Nix::str("b")),
        BinOp::And,
        Nix::ident("c"),
    );
    assert_eq!(render(&and), "a == \"b\" && c\n");
    let nested = Nix::op(
        Nix::ident("x"),
        BinOp::Eq,
        Nix::op(Nix::ident("a"), BinOp::And, Nix::ident("b")),
    );
    assert_eq!(render(&nested), "x == (a && b)\n");
    let list = Nix::list([Nix::op(Nix::ident("a"), BinOp::Add, Nix::str("/b"))]);
    assert_eq!(render(&list), "[\n  (a + \"/b\")\n]\n");
    let select = Nix::Select(
        Box::new(Nix::apply(Nix::ident("f"), [Nix::ident("x")])),
        vec!["system".into()],
    );
    assert_eq!(render(&select), "(f x).system\n");
    assert_eq!(
        render(&Nix::func("name", Nix::ident("name"))),
        "name: name\n"
    );
}
