// Reading the layout JSON for drawing: option paths as the backend prints them
// (`disko.devices.disk.main.content.partitions."/root"`) back to nodes, and what a
// partition holds as a chain of bands (LUKS → LVM → volumes → filesystems). No
// rules here: sizes, findings and previews come from the backend.

export type Step = string | number;

/** Splits a printed option path into its steps after `disko.devices`. */
export function parsePath(text: string): Step[] | null {
  const steps: Step[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ".") {
      i++;
      continue;
    }
    if (c === "[") {
      const end = text.indexOf("]", i);
      if (end < 0) return null;
      steps.push(Number(text.slice(i + 1, end)));
      i = end + 1;
      continue;
    }
    if (c === '"') {
      let name = "";
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\") {
          i++;
          const e = text[i];
          name += e === "n" ? "\n" : e === "t" ? "\t" : e === "r" ? "\r" : e;
        } else name += text[i];
        i++;
      }
      if (i >= text.length) return null;
      i++;
      steps.push(name);
      continue;
    }
    let name = "";
    while (i < text.length && text[i] !== "." && text[i] !== "[") name += text[i++];
    steps.push(name);
  }
  if (steps[0] !== "disko" || steps[1] !== "devices") return null;
  return steps.slice(2);
}

/** `name` as the backend prints it in a path (plain identifiers bare, others quoted). */
export function attrName(name: string): string {
  const keywords = ["if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or"];
  if (/^[A-Za-z_][A-Za-z0-9_'-]*$/.test(name) && !keywords.includes(name)) return name;
  return '"' + name.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\$\{/g, "\\${").replace(/\n/g, "\\n") + '"';
}

export function child(path: string, name: string): string {
  return `${path}.${attrName(name)}`;
}

export function lookup(layout: unknown, path: string): Record<string, unknown> | null {
  const steps = parsePath(path);
  if (!steps) return null;
  let at: unknown = layout;
  for (const s of steps) {
    if (at === null || typeof at !== "object") return null;
    at = (at as Record<string | number, unknown>)[s];
  }
  return at && typeof at === "object" ? (at as Record<string, unknown>) : null;
}

export interface Band {
  /** `luks`, `btrfs`, `subvolume`, `filesystem`, `lvm_pv`, `mdraid`, `zfs`, `swap`… */
  kind: string;
  label: string;
  detail: string;
  /** The option path of this content, for findings. */
  path: string;
  children: Band[];
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/** What the content at `path` holds, as nested bands. */
export function bands(content: Record<string, unknown> | null, path: string): Band[] {
  if (!content) return [];
  const type = str(content.type);
  const mount = str(content.mountpoint);
  switch (type) {
    case "filesystem":
      return [{ kind: "filesystem", label: str(content.format) || "filesystem", detail: mount || "not mounted", path, children: [] }];
    case "swap":
      return [{ kind: "swap", label: "swap", detail: content.randomEncryption ? "random encryption" : "", path, children: [] }];
    case "luks": {
      const inner = content.content as Record<string, unknown> | undefined;
      return [{ kind: "luks", label: `LUKS ${str(content.name)}`, detail: "encrypted", path, children: bands(inner ?? null, `${path}.content`) }];
    }
    case "btrfs": {
      const subs = (content.subvolumes ?? {}) as Record<string, Record<string, unknown>>;
      const children = Object.entries(subs).map(([name, sub]) => ({
        kind: "subvolume",
        label: name,
        detail: str(sub.mountpoint) || "not mounted",
        path: child(`${path}.subvolumes`, name),
        children: [],
      }));
      return [{ kind: "btrfs", label: "btrfs", detail: mount || `${children.length} subvolumes`, path, children }];
    }
    case "lvm_pv":
      return [{ kind: "lvm_pv", label: "LVM PV", detail: `→ volume group ${str(content.vg)}`, path, children: [] }];
    case "mdraid":
      return [{ kind: "mdraid", label: "RAID member", detail: `→ array ${str(content.name)}`, path, children: [] }];
    case "zfs":
      return [{ kind: "zfs", label: "ZFS member", detail: `→ pool ${str(content.pool)}`, path, children: [] }];
    case "gpt":
      return [{ kind: "gpt", label: "GPT", detail: "partition table", path, children: [] }];
    default:
      return type ? [{ kind: type, label: type, detail: "", path, children: [] }] : [];
  }
}

/** The chosen size text of the item at `path` (`512M`, `100%`), if any. */
export function sizeText(layout: unknown, path: string): string {
  return str(lookup(layout, path)?.size);
}
