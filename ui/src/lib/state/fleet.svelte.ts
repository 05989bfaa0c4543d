// The fleet dashboard's choices: which hosts or tag to redeploy, with what
// goal, and the backend's answer on what that selects (colmena's `--on`
// rules live in Rust; this class only builds the filter text from clicks).
import type { Commands } from "../ipc/commands";
import { toIpcError } from "../ipc/errors";
import type { ApiError, HostSummary } from "../bindings";
import type { DeployPreview } from "../ipc/types";

export const GOALS = ["switch", "boot", "test", "dry-activate", "build", "push"] as const;
export type Goal = (typeof GOALS)[number];

export type FleetCommands = Pick<Commands, "previewDeploy" | "startDeploy" | "startValidate">;

export class FleetState {
  /** Hosts ticked in the table. */
  picked = $state.raw<string[]>([]);
  /** A tag chosen instead of single hosts (without the `@`). */
  tag = $state<string | null>(null);
  goal = $state<Goal>("switch");
  buildOnTarget = $state(false);
  reboot = $state(false);
  preview = $state.raw<DeployPreview | null>(null);
  error = $state.raw<ApiError | null>(null);
  busy = $state(false);

  constructor(
    private readonly commands: FleetCommands,
    private readonly repo: () => string | null,
  ) {}

  /** The `--on` filter the clicks make: `@tag`, or the picked names joined by commas. */
  get filter(): string {
    if (this.tag) return `@${this.tag}`;
    return this.picked.join(",");
  }

  /** Every tag of the hosts, sorted, each with how many hosts carry it. */
  static tags(hosts: HostSummary[]): { tag: string; count: number }[] {
    const counts = new Map<string, number>();
    for (const h of hosts) for (const t of h.tags) counts.set(t, (counts.get(t) ?? 0) + 1);
    return [...counts].map(([tag, count]) => ({ tag, count })).sort((a, b) => a.tag.localeCompare(b.tag));
  }

  toggle(host: string): void {
    this.tag = null;
    this.picked = this.picked.includes(host) ? this.picked.filter((h) => h !== host) : [...this.picked, host];
    void this.refresh();
  }

  pickTag(tag: string | null): void {
    this.tag = tag;
    this.picked = [];
    void this.refresh();
  }

  setGoal(goal: Goal): void {
    this.goal = goal;
    void this.refresh();
  }

  setBuildOnTarget(on: boolean): void {
    this.buildOnTarget = on;
    void this.refresh();
  }

  setReboot(on: boolean): void {
    this.reboot = on;
    void this.refresh();
  }

  /** Asks the backend what the filter selects and which command would run. */
  async refresh(): Promise<void> {
    const repo = this.repo();
    const filter = this.filter;
    if (!repo || filter === "") {
      this.preview = null;
      this.error = null;
      return;
    }
    try {
      const preview = await this.commands.previewDeploy(repo, filter, this.goal, this.buildOnTarget, this.reboot);
      if (filter === this.filter) {
        this.preview = preview;
        this.error = null;
      }
    } catch (err) {
      if (filter === this.filter) {
        this.preview = null;
        this.error = toIpcError(err);
      }
    }
  }

  /** Starts the redeploy; the job's id to open. `allowLockout`: the person said they
   *  can log in another way after the backend refused with code `lockout`. */
  async deploy(allowLockout = false): Promise<string | null> {
    const repo = this.repo();
    if (!repo || !this.preview) return null;
    return this.run(() => this.commands.startDeploy(repo, this.filter, this.goal, this.buildOnTarget, this.reboot, allowLockout));
  }

  async validate(host: string): Promise<string | null> {
    const repo = this.repo();
    if (!repo) return null;
    return this.run(() => this.commands.startValidate(repo, host));
  }

  private async run(start: () => Promise<{ jobId: string }>): Promise<string | null> {
    this.busy = true;
    try {
      const { jobId } = await start();
      this.error = null;
      return jobId;
    } catch (err) {
      this.error = toIpcError(err);
      return null;
    } finally {
      this.busy = false;
    }
  }
}
