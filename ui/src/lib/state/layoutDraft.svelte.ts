import type { Commands } from "../ipc/commands";
import { toIpcError } from "../ipc/errors";
import { applyDelta } from "../ipc/delta";
import type { ApiError, Diagnostic, JsonValue, LayoutEdit, LayoutUpdate, LayoutView, TemplateInfo } from "../bindings";
import type { LayoutJson } from "../ipc/types";

type Api = Pick<Commands, "applyLayoutEdit" | "layoutView" | "layoutFromTemplate" | "layoutFromRepo" | "layoutTemplates">;

/**
 * The layout being edited: the backend's last `LayoutView`, and undo/redo over the
 * layouts it returned. Every change goes through `apply_layout_edit`; undo and redo
 * ask `layout_view` for the view of an earlier layout, so findings and the preview
 * always come from the backend. Each names the view held here by its digest and
 * gets back what changed since it (a 24-disk view is 80 KB, an edit changes a few
 * hundred bytes of it).
 */
export class LayoutDraft {
  view = $state.raw<LayoutView | null>(null);
  templates = $state.raw<TemplateInfo[]>([]);
  error = $state.raw<ApiError | null>(null);
  busy = $state(false);
  /** Option path of the selected partition or volume. */
  selected = $state<string | null>(null);
  /** Where the layout came from: a template name or "repo". */
  origin = $state<string | null>(null);
  undoDepth = $state(0);
  redoDepth = $state(0);
  private past: LayoutJson[] = [];
  private future: LayoutJson[] = [];

  constructor(
    private readonly api: Api,
    private readonly where: () => { repo: string; host: string },
  ) {}

  async loadTemplates(): Promise<void> {
    if (this.templates.length) return;
    await this.run(async () => {
      this.templates = await this.api.layoutTemplates();
    });
  }

  /** Starts from template `name` on `disks`; the previous layout stays undoable. */
  async fromTemplate(name: string, disks: string[]): Promise<void> {
    const { repo, host } = this.where();
    await this.run(async () => {
      const next = await this.api.layoutFromTemplate(repo, host, name, disks);
      this.replace(next);
      this.origin = name;
    });
  }

  /** Starts from the repository's `hosts/<host>/disko.nix`; false when there is none. */
  async fromRepo(): Promise<boolean> {
    const { repo, host } = this.where();
    let found = false;
    await this.run(async () => {
      const next = await this.api.layoutFromRepo(repo, host);
      if (next) {
        this.replace(next);
        this.origin = "repo";
        found = true;
      }
    });
    return found;
  }

  async edit(edit: LayoutEdit): Promise<boolean> {
    const current = this.view;
    if (!current) return false;
    const { repo, host } = this.where();
    let ok = false;
    await this.run(async () => {
      const next = await this.since(current, (base) =>
        this.api.applyLayoutEdit(repo, host, current.layout, edit, base ? current.digest : null),
      );
      this.past.push(current.layout);
      this.future = [];
      this.view = next;
      this.sync();
      ok = true;
    });
    return ok;
  }

  async undo(): Promise<void> {
    const previous = this.past.at(-1);
    if (!previous || !this.view) return;
    const held = this.view;
    const current = held.layout;
    await this.run(async () => {
      this.view = await this.viewOf(previous, held);
      this.past.pop();
      this.future.push(current);
      this.sync();
    });
  }

  async redo(): Promise<void> {
    const next = this.future.at(-1);
    if (!next || !this.view) return;
    const held = this.view;
    const current = held.layout;
    await this.run(async () => {
      this.view = await this.viewOf(next, held);
      this.future.pop();
      this.past.push(current);
      this.sync();
    });
  }

  get errors(): Diagnostic[] {
    return this.view?.diagnostics.filter((d) => d.severity === "error") ?? [];
  }

  /** Findings on the option at `path` or below it. */
  findingsAt(path: string): Diagnostic[] {
    return this.view?.diagnostics.filter((d) => d.path === path || d.path.startsWith(path + ".")) ?? [];
  }

  /** The view of `layout`, asked as what changed since `held`. */
  private viewOf(layout: LayoutJson, held: LayoutView): Promise<LayoutView> {
    const { repo, host } = this.where();
    return this.since(held, (base) =>
      this.api.layoutView(repo, host, layout, base ? held.digest : null),
    );
  }

  /**
   * The view `ask` answers, asked first as what changed since `held`; asked
   * again whole if that delta does not fit what is held.
   */
  private async since(held: LayoutView, ask: (withBase: boolean) => Promise<LayoutUpdate>): Promise<LayoutView> {
    const update = await ask(true);
    if (update.kind === "whole") return update.view;
    if (!update.delta) return held;
    try {
      return applyDelta(held as unknown as JsonValue, update.delta) as unknown as LayoutView;
    } catch {
      const whole = await ask(false);
      if (whole.kind === "whole") return whole.view;
      throw new Error("the backend answered with a delta when asked for the whole view");
    }
  }

  private replace(next: LayoutView): void {
    if (this.view) {
      this.past.push(this.view.layout);
      this.future = [];
    }
    this.view = next;
    this.selected = null;
    this.sync();
  }

  private sync(): void {
    this.undoDepth = this.past.length;
    this.redoDepth = this.future.length;
  }

  private async run(action: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.error = null;
    try {
      await action();
    } catch (err) {
      this.error = toIpcError(err);
    } finally {
      this.busy = false;
    }
  }
}
