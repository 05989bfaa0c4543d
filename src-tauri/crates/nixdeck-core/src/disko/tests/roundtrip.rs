//! Property: any layout (random devices, every content type, unknown options,
//! hostile text) survives import → render → nix-instantiate → import unchanged.
//! Cases are batched: one `nix-instantiate` evaluates a whole vector of layouts.

use super::nix::eval_many;
use crate::disko::*;
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// Text with the characters that break naive Nix writers.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9_-]{0,6}",
        "[a-zA-Z0-9 _./:=,\"'\\\\$\\{\\}\n\t✓é-]{0,10}",
        Just("${builtins.currentTime}".to_string()),
        Just("''${x}".to_string()),
        Just("\"; rm -rf / #".to_string()),
        Just("in".to_string()),
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![3 => "[a-z][a-z0-9-]{0,5}", 1 => text()]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        text().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        // Nix prints floats with 6 significant digits: use ones that survive that.
        prop_oneof![Just(2.5), Just(-0.25), Just(1e20)].prop_map(Value::from),
        Just(Value::Null),
    ]
}

fn strings() -> impl Strategy<Value = Value> {
    vec(text(), 0..3).prop_map(Value::from)
}

/// Adds `fields` that are `Some`, plus sometimes an option nixdeck does not know.
fn object(fields: Vec<(&'static str, Option<Value>)>, extra: Option<(String, Value)>) -> Value {
    let mut map = Map::new();
    for (k, v) in fields {
        if let Some(v) = v {
            map.insert(k.to_string(), v);
        }
    }
    if let Some((k, v)) = extra {
        map.entry(format!("x-{k}")).or_insert(v);
    }
    Value::Object(map)
}

fn extra() -> impl Strategy<Value = Option<(String, Value)>> {
    option::weighted(0.2, (name(), scalar()))
}

fn named<S: Strategy<Value = Value>>(item: S, max: usize) -> impl Strategy<Value = Value> {
    btree_map(name(), item, 0..max).prop_map(|m| Value::Object(m.into_iter().collect()))
}

fn leaf_content() -> BoxedStrategy<Value> {
    let filesystem = (
        text(),
        option::of(text()),
        option::of(strings()),
        option::of(strings()),
        extra(),
    )
        .prop_map(|(format, mountpoint, opts, args, x)| {
            let mut v = object(
                vec![
                    ("format", Some(format.into())),
                    ("mountpoint", mountpoint.map(Value::from)),
                    ("mountOptions", opts),
                    ("extraArgs", args),
                ],
                x,
            );
            v["type"] = json!("filesystem");
            v
        });
    let swap = (
        option::of(prop_oneof![Just("once"), Just("pages"), Just("both")]),
        option::of(0i64..32767),
        option::of(any::<bool>()),
        option::of(any::<bool>()),
    )
        .prop_map(|(d, p, r, res)| {
            let mut v = object(
                vec![
                    ("discardPolicy", d.map(Value::from)),
                    ("priority", p.map(Value::from)),
                    ("randomEncryption", r.map(Value::from)),
                    ("resumeDevice", res.map(Value::from)),
                ],
                None,
            );
            v["type"] = json!("swap");
            v
        });
    let btrfs = (
        named(
            (
                option::of(text()),
                option::of(strings()),
                option::of(named(
                    (text(), option::of(any::<i16>())).prop_map(|(s, p)| {
                        object(
                            vec![("size", Some(s.into())), ("priority", p.map(Value::from))],
                            None,
                        )
                    }),
                    2,
                )),
            )
                .prop_map(|(m, o, s)| {
                    object(
                        vec![
                            ("mountpoint", m.map(Value::from)),
                            ("mountOptions", o),
                            ("swap", s),
                        ],
                        None,
                    )
                }),
            3,
        ),
        option::of(strings()),
    )
        .prop_map(|(subvolumes, args)| {
            let mut v = object(
                vec![("subvolumes", Some(subvolumes)), ("extraArgs", args)],
                None,
            );
            v["type"] = json!("btrfs");
            v
        });
    let member = prop_oneof![
        text().prop_map(|g| json!({"type": "lvm_pv", "vg": g})),
        text().prop_map(|g| json!({"type": "mdraid", "name": g})),
        text().prop_map(|g| json!({"type": "zfs", "pool": g})),
        (text(), option::of(text())).prop_map(|(g, l)| object(
            vec![
                ("type", Some("bcachefs".into())),
                ("filesystem", Some(g.into())),
                ("label", l.map(Value::from))
            ],
            None
        )),
        (scalar(), name()).prop_map(|(v, k)| json!({"type": "future-type", format!("x{k}"): v})),
    ];
    prop_oneof![
        filesystem.boxed(),
        swap.boxed(),
        btrfs.boxed(),
        member.boxed()
    ]
    .boxed()
}

fn content() -> BoxedStrategy<Value> {
    leaf_content()
        .prop_recursive(3, 24, 4, |inner| {
            let partition = (
                option::of(prop_oneof![
                    Just("EF00".to_string()),
                    Just("EF02".to_string()),
                    Just("8300".to_string()),
                    Just("0FC63DAF-8483-4772-8E79-3D69D8477DE4".to_string())
                ]),
                option::of(prop_oneof![
                    Just("100%".to_string()),
                    "[1-9][0-9]{0,3}[KMGT]?"
                ]),
                option::of(any::<i16>()),
                option::of(text()),
                option::of(vec(0i64..64, 0..3)),
                option::of((option::of(text()), option::of(any::<bool>()))),
                option::of(inner.clone()),
                extra(),
            )
                .prop_map(|(t, size, prio, label, attrs, hybrid, content, x)| {
                    let hybrid = hybrid.map(|(ty, b)| {
                        object(
                            vec![
                                ("mbrPartitionType", ty.map(Value::from)),
                                ("mbrBootableFlag", b.map(Value::from)),
                            ],
                            None,
                        )
                    });
                    object(
                        vec![
                            ("type", t.map(Value::from)),
                            ("size", size.map(Value::from)),
                            ("priority", prio.map(Value::from)),
                            ("label", label.map(Value::from)),
                            ("attributes", attrs.map(Value::from)),
                            ("hybrid", hybrid),
                            ("content", content),
                        ],
                        x,
                    )
                });
            let gpt = (named(partition, 4), option::of(any::<bool>())).prop_map(|(p, first)| {
                object(
                    vec![
                        ("type", Some("gpt".into())),
                        ("partitions", Some(p)),
                        ("efiGptPartitionFirst", first.map(Value::from)),
                    ],
                    None,
                )
            });
            let table_part = (
                option::of(text()),
                option::of(text()),
                option::of(strings()),
                option::of(any::<bool>()),
                option::of(inner.clone()),
            )
                .prop_map(|(s, e, f, b, c)| {
                    object(
                        vec![
                            ("start", s.map(Value::from)),
                            ("end", e.map(Value::from)),
                            ("flags", f),
                            ("bootable", b.map(Value::from)),
                            ("content", c),
                        ],
                        None,
                    )
                });
            let table = (
                prop_oneof![Just("gpt"), Just("msdos")],
                vec(table_part, 0..3),
            )
                .prop_map(|(f, p)| json!({"type": "table", "format": f, "partitions": p}));
            let luks = (
                text(),
                option::of(text()),
                option::of(any::<bool>()),
                option::of(named(scalar(), 3)),
                option::of(strings()),
                option::of(inner),
            )
                .prop_map(|(n, pf, ask, settings, args, c)| {
                    object(
                        vec![
                            ("type", Some("luks".into())),
                            ("name", Some(n.into())),
                            ("passwordFile", pf.map(Value::from)),
                            ("askPassword", ask.map(Value::from)),
                            ("settings", settings),
                            ("extraOpenArgs", args),
                            ("content", c),
                        ],
                        None,
                    )
                });
            prop_oneof![gpt.boxed(), table.boxed(), luks.boxed()]
        })
        .boxed()
}

fn layout() -> BoxedStrategy<Value> {
    let disk = (
        text(),
        option::of(content()),
        option::of(any::<bool>()),
        extra(),
    )
        .prop_map(|(device, c, destroy, x)| {
            object(
                vec![
                    ("type", Some("disk".into())),
                    ("device", Some(device.into())),
                    ("destroy", destroy.map(Value::from)),
                    ("content", c),
                ],
                x,
            )
        });
    let lv = (
        prop_oneof![
            Just("10G".to_string()),
            Just("100%FREE".to_string()),
            text()
        ],
        option::of(prop_oneof![Just("raid1"), Just("thin-pool")]),
        option::of(content()),
    )
        .prop_map(|(s, t, c)| {
            object(
                vec![
                    ("size", Some(s.into())),
                    ("lvm_type", t.map(Value::from)),
                    ("content", c),
                ],
                None,
            )
        });
    let vg = named(lv, 3).prop_map(|lvs| json!({"type": "lvm_vg", "lvs": lvs}));
    let vdev = (
        option::of(prop_oneof![Just("mirror"), Just("")]),
        vec(text(), 1..3),
    )
        .prop_map(|(m, members)| {
            object(
                vec![
                    ("mode", m.map(Value::from)),
                    ("members", Some(members.into())),
                ],
                None,
            )
        })
        .boxed();
    let mode = prop_oneof![
        prop_oneof![Just(""), Just("mirror"), Just("raidz2")].prop_map(Value::from),
        (vec(vdev.clone(), 1..3), option::of(vdev), option::of(vec(text(), 0..2))).prop_map(|(v, special, cache)| {
            json!({"topology": object(vec![("type", Some("topology".into())), ("vdev", Some(v.into())), ("special", special), ("cache", cache.map(Value::from))], None)})
        }),
    ];
    let dataset = prop_oneof![
        (
            option::of(text()),
            option::of(named(text().prop_map(Value::from), 2))
        )
            .prop_map(|(m, o)| object(
                vec![
                    ("type", Some("zfs_fs".into())),
                    ("mountpoint", m.map(Value::from)),
                    ("options", o)
                ],
                None
            )),
        (option::of(text()), option::of(content())).prop_map(|(s, c)| object(
            vec![
                ("type", Some("zfs_volume".into())),
                ("size", s.map(Value::from)),
                ("content", c)
            ],
            None
        )),
    ];
    let zpool = (
        option::of(mode),
        option::of(named(text().prop_map(Value::from), 2)),
        option::of(named(dataset, 3)),
    )
        .prop_map(|(m, o, d)| {
            object(
                vec![
                    ("type", Some("zpool".into())),
                    ("mode", m),
                    ("rootFsOptions", o),
                    ("datasets", d),
                ],
                None,
            )
        });
    let md = (
        option::of(1i64..11),
        option::of(prop_oneof![Just("1.0"), Just("1.2")]),
        option::of(content()),
    )
        .prop_map(|(l, m, c)| {
            object(
                vec![
                    ("type", Some("mdadm".into())),
                    ("level", l.map(Value::from)),
                    ("metadata", m.map(Value::from)),
                    ("content", c),
                ],
                None,
            )
        });
    let nodev = (text(), option::of(strings()))
        .prop_map(|(fs, o)| object(vec![("fsType", Some(fs.into())), ("mountOptions", o)], None));
    let bcachefs = (
        option::of(text()),
        option::of(named(
            (option::of(text()))
                .prop_map(|m| object(vec![("mountpoint", m.map(Value::from))], None)),
            2,
        )),
    )
        .prop_map(|(m, s)| {
            object(
                vec![
                    ("type", Some("bcachefs_filesystem".into())),
                    ("mountpoint", m.map(Value::from)),
                    ("subvolumes", s),
                ],
                None,
            )
        });
    (
        option::of(named(disk, 3)),
        option::of(named(vg, 2)),
        option::of(named(zpool, 2)),
        option::of(named(md, 2)),
        option::of(named(nodev, 2)),
        option::of(named(bcachefs, 2)),
    )
        .prop_map(|(disk, lvm_vg, zpool, mdadm, nodev, bcachefs)| {
            object(
                vec![
                    ("disk", disk),
                    ("lvm_vg", lvm_vg),
                    ("zpool", zpool),
                    ("mdadm", mdadm),
                    ("nodev", nodev),
                    ("bcachefs_filesystems", bcachefs),
                ],
                None,
            )
        })
        .boxed()
}

/// Checks one batch of generated layouts.
fn check(values: Vec<Value>) -> Result<(), TestCaseError> {
    let layouts: Vec<DiskLayout> = values.iter().map(|v| from_json(v).unwrap()).collect();
    for (value, layout) in values.iter().zip(&layouts) {
        prop_assert_eq!(&to_json(layout), value);
    }
    let texts: Vec<String> = layouts.iter().map(render).collect();
    let evaluated = eval_many(&texts);
    for ((layout, value), text) in layouts.iter().zip(evaluated).zip(&texts) {
        let back = from_json(&value).unwrap();
        prop_assert_eq!(&back, layout, "rendered:\n{}", text);
    }
    Ok(())
}

#[test]
fn random_layouts_survive_render_evaluate_import() {
    // The nested strategies are deep: give the runner a stack to match.
    let worker = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(|| {
            let config = ProptestConfig {
                cases: 12,
                max_shrink_iters: 200,
                ..ProptestConfig::default()
            };
            let mut runner = proptest::test_runner::TestRunner::new(config);
            runner
                .run(&vec(layout(), 1..16), check)
                .map_err(|e| e.to_string())
        })
        .unwrap();
    if let Err(failure) = worker.join().unwrap() {
        panic!("{failure}");
    }
}
