// Removing a host from the repository: the backend's plan (which files go, which
// of them a person edited), the person's confirmation, then the removal.
import type { Commands } from "../ipc/commands";
import { toIpcError } from "../ipc/errors";
import type { ApiError, RepoView, SeenChange, WritePlan } from "../bindings";

export class RemoveHostState {
  plan = $state.raw<WritePlan | null>(null);
  error = $state.raw<ApiError | null>(null);
  busy = $state(false);
  /** Edited files the person ticked for deletion. */
  confirmed = $state.raw<string[]>([]);

  constructor(
    private readonly api: Pick<Commands, "planRemoveHost" | "removeHost">,
    readonly repo: string,
    readonly host: string,
  ) {}

  async load(): Promise<void> {
    try {
      this.plan = await this.api.planRemoveHost(this.repo, this.host);
    } catch (err) {
      this.error = toIpcError(err);
    }
  }

  /** Files a person edited: deleting them needs a tick each. */
  get edited(): string[] {
    return (this.plan?.changes ?? [])
      .filter((c) => c.ownership === "edited" || c.ownership === "foreign")
      .map((c) => c.path);
  }

  get ready(): boolean {
    return this.plan !== null && this.edited.every((p) => this.confirmed.includes(p));
  }

  toggle(path: string, on: boolean): void {
    this.confirmed = on ? [...this.confirmed, path] : this.confirmed.filter((p) => p !== path);
  }

  /** The ticked files as the plan showed them (removal only deletes): the backend
   *  refuses one edited again since, rather than delete text the person never saw. */
  private seen(): SeenChange[] {
    return (this.plan?.changes ?? [])
      .filter((c) => this.confirmed.includes(c.path))
      .map((c) => ({ path: c.path, currentHash: c.currentHash, proposedHash: null }));
  }

  /** The repository after the removal, or `null` when it failed (see `error`). */
  async remove(): Promise<RepoView | null> {
    if (!this.ready) return null;
    this.busy = true;
    this.error = null;
    try {
      return await this.api.removeHost(this.repo, this.host, this.seen());
    } catch (err) {
      this.error = toIpcError(err);
      return null;
    } finally {
      this.busy = false;
    }
  }
}
