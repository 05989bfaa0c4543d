// Reading the backend's layout view for drawing: every item of the layout comes
// as a node with its option path, label and detail (`nixdeck_core::disko::nodes`),
// and this only finds nodes and nests them. No rules and no path syntax here:
// sizes, findings, labels and paths come from the backend as they are shown.
import type { LayoutNode, LayoutView } from "../bindings";

export interface Band {
  /** `luks`, `btrfs`, `subvolume`, `filesystem`, `lvm_pv`, `mdraid`, `zfs`, `swap`… */
  kind: string;
  label: string;
  detail: string;
  /** The option path of this content, for findings. */
  path: string;
  children: Band[];
}

/** The node printed as `path`, if the layout has it. */
export function nodeAt(view: LayoutView | null, path: string | null): LayoutNode | null {
  if (!view || path === null) return null;
  return view.nodes.find((n) => n.path === path) ?? null;
}

/** The nodes directly under `path`, in the layout's order. */
export function childrenOf(view: LayoutView | null, path: string | null): LayoutNode[] {
  return view?.nodes.filter((n) => n.parent === path) ?? [];
}

/** What the item at `path` holds, as nested bands. */
export function bands(view: LayoutView | null, path: string): Band[] {
  return childrenOf(view, path).map((n) => ({
    kind: n.kind,
    label: n.label,
    detail: n.detail,
    path: n.path,
    children: bands(view, n.path),
  }));
}

/** The chosen size text of the item at `path` (`512M`, `100%`), if any. */
export function sizeText(view: LayoutView | null, path: string | null): string {
  return nodeAt(view, path)?.size ?? "";
}

/** The item's options in the layout's JSON, followed by the node's keys (for the form). */
export function options(view: LayoutView | null, path: string | null): Record<string, unknown> | null {
  const node = nodeAt(view, path);
  if (!view || !node) return null;
  let at: unknown = view.layout;
  for (const key of node.keys) {
    if (at === null || typeof at !== "object") return null;
    at = (at as Record<string, unknown>)[key];
  }
  return at && typeof at === "object" ? (at as Record<string, unknown>) : null;
}

/** The deepest node a finding's or problem's path (`…partitions.root.size`) is about. */
export function itemOf(view: LayoutView | null, path: string): LayoutNode | null {
  let best: LayoutNode | null = null;
  for (const n of view?.nodes ?? []) {
    const within = path === n.path || path.startsWith(n.path + ".") || path.startsWith(n.path + "[");
    if (within && (!best || n.path.length > best.path.length)) best = n;
  }
  return best;
}
