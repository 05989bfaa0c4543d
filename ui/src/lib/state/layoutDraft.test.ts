import { describe, expect, it, vi } from "vitest";
import { LayoutDraft } from "./layoutDraft.svelte";
import type { JsonValue, LayoutEdit, LayoutUpdate, LayoutView } from "../bindings";
import type { LayoutJson } from "../ipc/types";

/** A view whose layout records the sizes it was given, as the backend's would. */
function viewOf(layout: LayoutJson, errors = 0): LayoutView {
  return {
    layout,
    diagnostics: Array.from({ length: errors }, () => ({ severity: "error" as const, rule: "bad-value", path: "disko.devices.disk.main.content.partitions.ESP.size", message: "bad" })),
    preview: JSON.stringify(layout),
    space: { plans: [], members: [] },
    disks: [],
    needs: { esp: true, bios_boot: false, gpt: true, disks: [] },
    nodes: [],
    summary: [],
    digest: JSON.stringify([layout, errors]),
  };
}

/**
 * What the backend answers: when `base` is the digest of a view it sent, the
 * fields of `next` that differ from that view; else all of it.
 */
function answerer() {
  const sent = new Map<string, LayoutView>();
  return (next: LayoutView, base: string | null): LayoutUpdate => {
    const held = base === null ? undefined : sent.get(base);
    sent.set(next.digest, next);
    if (!held) return { kind: "whole", view: next };
    const was = held as unknown as Record<string, JsonValue>;
    const changed = Object.entries(next as unknown as Record<string, JsonValue>)
      .filter(([key, value]) => JSON.stringify(value) !== JSON.stringify(was[key]))
      .map(([key, value]): [string, { set: JsonValue }] => [key, { set: value }]);
    return { kind: "changed", delta: changed.length ? { fields: { changed, removed: [] } } : null };
  };
}

function fakeApi() {
  const answer = answerer();
  const whole = (view: LayoutView) => (answer(view, null), view);
  return {
    layoutTemplates: vi.fn(async () => [{ name: "btrfs", title: "btrfs", description: "", disks: 1 }]),
    layoutFromTemplate: vi.fn(async (_r: string, _h: string, name: string) => whole(viewOf({ template: name, size: "512M" }))),
    layoutFromRepo: vi.fn(async () => null),
    applyLayoutEdit: vi.fn(async (_r: string, _h: string, _layout: LayoutJson, edit: LayoutEdit, base: string | null) =>
      answer(
        viewOf({ template: "btrfs", size: edit.kind === "set_size" ? edit.size : "?" }, edit.kind === "set_size" && edit.size.endsWith("X") ? 1 : 0),
        base,
      ),
    ),
    layoutView: vi.fn(async (_r: string, _h: string, layout: LayoutJson, base: string | null) => answer(viewOf(layout), base)),
  };
}

const where = () => ({ repo: "/r", host: "web" });
const resize = (size: string): LayoutEdit => ({ kind: "set_size", path: "disko.devices.disk.main.content.partitions.ESP", size });

describe("LayoutDraft", () => {
  it("sends edits with the current layout and keeps what the backend answers", async () => {
    const api = fakeApi();
    const draft = new LayoutDraft(api, where);
    await draft.fromTemplate("btrfs", ["/dev/disk/by-id/x"]);
    expect(api.layoutFromTemplate).toHaveBeenCalledWith("/r", "web", "btrfs", ["/dev/disk/by-id/x"]);
    await draft.edit(resize("1G"));
    const before = viewOf({ template: "btrfs", size: "512M" });
    expect(api.applyLayoutEdit).toHaveBeenCalledWith("/r", "web", before.layout, resize("1G"), before.digest);
    expect(draft.view).toEqual(viewOf({ template: "btrfs", size: "1G" }));
  });

  it("takes what changed since the view it holds, and keeps what did not", async () => {
    const api = fakeApi();
    const draft = new LayoutDraft(api, where);
    await draft.fromTemplate("btrfs", []);
    const space = draft.view?.space;
    await draft.edit(resize("1G"));
    expect(await api.applyLayoutEdit.mock.results[0].value).toMatchObject({ kind: "changed" });
    expect(draft.view).toEqual(viewOf({ template: "btrfs", size: "1G" }));
    // Unchanged parts are the very objects held before: nothing redraws them.
    expect(draft.view?.space).toBe(space);
    await draft.undo();
    expect(await api.layoutView.mock.results[0].value).toMatchObject({ kind: "changed" });
    expect(draft.view).toEqual(viewOf({ template: "btrfs", size: "512M" }));
  });

  it("asks for the whole view when the answer does not fit the view it holds", async () => {
    const api = fakeApi();
    const draft = new LayoutDraft(api, where);
    await draft.fromTemplate("btrfs", []);
    api.applyLayoutEdit.mockResolvedValueOnce({ kind: "changed", delta: { fields: { changed: [["nodes", { items: [[3, { set: 1 }]] }]], removed: [] } } });
    expect(await draft.edit(resize("1G"))).toBe(true);
    expect(api.applyLayoutEdit).toHaveBeenCalledTimes(2);
    expect(api.applyLayoutEdit.mock.calls[1][4]).toBeNull();
    expect(draft.view).toEqual(viewOf({ template: "btrfs", size: "1G" }));
  });

  it("undoes and redoes through the backend's view of earlier layouts", async () => {
    const draft = new LayoutDraft(fakeApi(), where);
    await draft.fromTemplate("btrfs", []);
    await draft.edit(resize("1G"));
    await draft.edit(resize("2G"));
    expect(draft.undoDepth).toBe(2);
    await draft.undo();
    expect(draft.view?.layout.size).toBe("1G");
    await draft.undo();
    expect(draft.view?.layout.size).toBe("512M");
    expect(draft.undoDepth).toBe(0);
    expect(draft.redoDepth).toBe(2);
    await draft.redo();
    expect(draft.view?.layout.size).toBe("1G");
    // A new edit after undo drops the redo history.
    await draft.edit(resize("3G"));
    expect(draft.redoDepth).toBe(0);
    await draft.undo();
    expect(draft.view?.layout.size).toBe("1G");
  });

  it("shows the backend's findings, and a refused edit changes nothing", async () => {
    const api = fakeApi();
    const draft = new LayoutDraft(api, where);
    await draft.fromTemplate("btrfs", []);
    await draft.edit(resize("12X"));
    expect(draft.errors).toHaveLength(1);
    expect(draft.findingsAt("disko.devices.disk.main.content.partitions.ESP")).toHaveLength(1);
    expect(draft.findingsAt("disko.devices.disk.main.content.partitions.E")).toHaveLength(0);
    api.applyLayoutEdit.mockRejectedValueOnce({ code: "validation", message: "there is already one named `ESP` here", hint: null });
    const before = draft.view;
    expect(await draft.edit({ kind: "rename", path: "x", to: "ESP" })).toBe(false);
    expect(draft.view).toBe(before);
    expect(draft.error?.message).toContain("already one named");
  });
});
