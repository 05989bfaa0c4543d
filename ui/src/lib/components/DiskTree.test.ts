import { describe, expect, it } from "vitest";
import { attrName, bands, child, lookup, parsePath, sizeText } from "./DiskTree";

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

describe("DiskTree", () => {
  it("reads option paths as the backend prints them, quoted names included", () => {
    expect(parsePath('disko.devices.disk.main.content.subvolumes."/root".x[2]')).toEqual(["disk", "main", "content", "subvolumes", "/root", "x", 2]);
    expect(parsePath('disko.devices.disk."a \\"b\\"".content')).toEqual(["disk", 'a "b"', "content"]);
    expect(parsePath("disk.main")).toBeNull();
    expect(parsePath('disko.devices."open')).toBeNull();
  });

  it("prints names the way it reads them", () => {
    for (const name of ["ESP", "/root", 'a "b"', "x${y}", "in"]) {
      const path = child("disko.devices.disk", name);
      expect(parsePath(path)?.at(-1)).toBe(name);
    }
    expect(attrName("ESP")).toBe("ESP");
    expect(attrName("/root")).toBe('"/root"');
  });

  it("finds nodes and sizes, and draws what a partition holds as nested bands", () => {
    const p = "disko.devices.disk.main.content.partitions";
    expect(sizeText(layout, `${p}.ESP`)).toBe("512M");
    expect(lookup(layout, `${p}.nope`)).toBeNull();
    const [luks] = bands(lookup(layout, `${p}.luks.content`), `${p}.luks.content`);
    expect(luks.kind).toBe("luks");
    expect(luks.label).toBe("LUKS crypted");
    const [btrfs] = luks.children;
    expect(btrfs.kind).toBe("btrfs");
    expect(btrfs.children.map((c) => [c.label, c.detail, c.path])).toEqual([
      ["/root", "/", `${p}.luks.content.content.subvolumes."/root"`],
      ["/nix", "/nix", `${p}.luks.content.content.subvolumes."/nix"`],
    ]);
    expect(bands(lookup(layout, `${p}.ESP.content`), "x")[0]).toMatchObject({ kind: "filesystem", label: "vfat", detail: "/boot" });
  });
});
