import { describe, expect, it } from "vitest";
import { bands, itemOf, nodeAt, options, sizeText } from "./DiskTree";
import type { LayoutNode, LayoutView } from "../bindings";

// The nodes as nixdeck_core::disko::nodes::layout_nodes describes this layout
// (the Rust tests check the paths, quoting and labels; this checks the drawing).
const p = "disko.devices.disk.main.content.partitions";
const layout = {
  disk: {
    main: {
      content: {
        type: "gpt",
        partitions: {
          ESP: { size: "512M", content: { type: "filesystem", format: "vfat", mountpoint: "/boot" } },
          luks: {
            size: "100%",
            content: { type: "luks", name: "crypted", content: { type: "btrfs", subvolumes: { "/root": { mountpoint: "/" }, "/nix": { mountpoint: "/nix" } } } },
          },
        },
      },
    },
  },
};

function node(path: string, parent: string | null, kind: string, label: string, detail: string, keys: string[], extra: Partial<LayoutNode> = {}): LayoutNode {
  return { path, parent, kind, label, detail, keys, name: "", title: keys.filter((k) => k !== "content").join(" / "), size: null, ...extra };
}

const k = ["disk", "main", "content", "partitions"];
const view: LayoutView = {
  layout,
  diagnostics: [],
  preview: "",
  space: { plans: [], members: [] },
  disks: [],
  needs: { esp: true, bios_boot: false, gpt: true, disks: [] },
  summary: [],
  digest: "0",
  nodes: [
    node("disko.devices.disk.main", null, "disk", "main", "", ["disk", "main"], { name: "main" }),
    node("disko.devices.disk.main.content", "disko.devices.disk.main", "gpt", "GPT", "partition table", ["disk", "main", "content"]),
    node(`${p}.ESP`, "disko.devices.disk.main.content", "partition", "ESP", "", [...k, "ESP"], { name: "ESP", size: "512M" }),
    node(`${p}.ESP.content`, `${p}.ESP`, "filesystem", "vfat", "/boot", [...k, "ESP", "content"]),
    node(`${p}.luks`, "disko.devices.disk.main.content", "partition", "luks", "", [...k, "luks"], { name: "luks", size: "100%" }),
    node(`${p}.luks.content`, `${p}.luks`, "luks", "LUKS crypted", "encrypted", [...k, "luks", "content"]),
    node(`${p}.luks.content.content`, `${p}.luks.content`, "btrfs", "btrfs", "2 subvolumes", [...k, "luks", "content", "content"]),
    node(`${p}.luks.content.content.subvolumes."/root"`, `${p}.luks.content.content`, "subvolume", "/root", "/", [...k, "luks", "content", "content", "subvolumes", "/root"], { name: "/root" }),
    node(`${p}.luks.content.content.subvolumes."/nix"`, `${p}.luks.content.content`, "subvolume", "/nix", "/nix", [...k, "luks", "content", "content", "subvolumes", "/nix"], { name: "/nix" }),
  ],
};

describe("DiskTree", () => {
  it("finds items by the paths the backend prints, quoted names included", () => {
    expect(nodeAt(view, `${p}.luks.content.content.subvolumes."/root"`)?.name).toBe("/root");
    expect(nodeAt(view, `${p}.nope`)).toBeNull();
    expect(nodeAt(null, `${p}.ESP`)).toBeNull();
    expect(nodeAt(view, "disko.devices.disk.main.content")?.title).toBe("disk / main");
  });

  it("reads an item's options by its keys, and the item a problem is about", () => {
    expect(options(view, `${p}.luks.content.content.subvolumes."/root"`)).toEqual({ mountpoint: "/" });
    expect(options(view, `${p}.ESP`)?.size).toBe("512M");
    expect(options(view, `${p}.nope`)).toBeNull();
    expect(itemOf(view, `${p}.ESP.size`)?.path).toBe(`${p}.ESP`);
    expect(itemOf(view, `${p}.ESP.content.mountpoint`)?.path).toBe(`${p}.ESP.content`);
    expect(itemOf(view, "disko.devices.disk.other")).toBeNull();
  });

  it("finds nodes and sizes, and draws what a partition holds as nested bands", () => {
    expect(sizeText(view, `${p}.ESP`)).toBe("512M");
    expect(sizeText(view, `${p}.nope`)).toBe("");
    const [luks] = bands(view, `${p}.luks`);
    expect(luks.kind).toBe("luks");
    expect(luks.label).toBe("LUKS crypted");
    const [btrfs] = luks.children;
    expect(btrfs.kind).toBe("btrfs");
    expect(btrfs.children.map((c) => [c.label, c.detail, c.path])).toEqual([
      ["/root", "/", `${p}.luks.content.content.subvolumes."/root"`],
      ["/nix", "/nix", `${p}.luks.content.content.subvolumes."/nix"`],
    ]);
    expect(bands(view, `${p}.ESP`)[0]).toMatchObject({ kind: "filesystem", label: "vfat", detail: "/boot" });
  });
});
