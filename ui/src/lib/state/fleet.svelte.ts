// The fleet dashboard's choices: which hosts or tag to redeploy, with what
// goal, and the backend's answer on what that selects (colmena's `--on`
// rules live in Rust; this class only builds the filter text from clicks).
import type { Commands } from "../ipc/commands";
import { toIpcError } from "../ipc/errors";
import type { ApiError, GoalRisk, HostRow, HostSummary } from "../bindings";
import type { DeployPreview } from "../ipc/types";

export const GOALS = ["switch", "boot", "test", "dry-activate", "build", "push"] as const;
export type Goal = (typeof GOALS)[number];

export type FleetCommands = Pick<Commands, "previewDeploy" | "startDeploy" | "startValidate" | "deployGoalRisks">;
export type StatusCommands = Pick<Commands, "fleetStatus">;

/**
 * The dashboard's live status: one row per host as its host answers (the
 * backend probes a bounded pool in parallel and sends each row on a channel).
 * A refresh started later wins; rows of an older run or another repository
 * are dropped.
 */
export class FleetStatus {
  /** Rows by host name, of the repository in `repo`. */
  rows = $state.raw<Record<string, HostRow>>({});
  /** The repository the rows belong to. */
  repo = $state<string | null>(null);
  running = $state(false);
  error = $state.raw<ApiError | null>(null);
  /** How many rows have arrived in the current run. */
  answered = $state(0);
  /** Milliseconds the last complete run took, for the person (and the e2e figures). */
  took = $state<number | null>(null);
  private run = 0;

  constructor(private readonly commands: StatusCommands) {}

  /** When the last complete run ended (ms since the epoch). */
  private finishedAt = 0;

  /**
   * Reads the status of `repo`'s hosts when the dashboard shows it: unless this
   * repository was read in the last `fresh` ms (coming back from a host or a
   * job after a while reads again, so a rollback or deploy shows).
   */
  ensure(repo: string, fresh = 30_000): void {
    if (this.repo !== repo) void this.refresh(repo);
    else if (!this.running && Date.now() - this.finishedAt > fresh) void this.refresh(repo);
  }

  /** Reads every host's status again; rows replace the old ones as they come. */
  async refresh(repo: string): Promise<void> {
    const run = ++this.run;
    if (this.repo !== repo) this.rows = {};
    this.repo = repo;
    this.running = true;
    this.error = null;
    this.answered = 0;
    this.took = null;
    const started = performance.now();
    const add = (row: HostRow) => {
      if (run !== this.run) return;
      this.rows = { ...this.rows, [row.host]: row };
      this.answered++;
    };
    try {
      const rows = await this.commands.fleetStatus(repo, null, add);
      if (run !== this.run) return;
      // The final answer is complete even if a channel message was lost.
      this.rows = Object.fromEntries(rows.map((r) => [r.host, r]));
      this.answered = rows.length;
      this.took = Math.round(performance.now() - started);
      this.finishedAt = Date.now();
    } catch (err) {
      if (run === this.run) this.error = toIpcError(err);
    } finally {
      if (run === this.run) this.running = false;
    }
  }

  row(host: string): HostRow | null {
    return this.rows[host] ?? null;
  }
}

/** "3 d 2 h", "5 h 12 min", "4 min": how long a machine has been up. */
export function formatUptime(secs: number | null): string {
  if (secs === null) return "—";
  const d = Math.floor(secs / 86400);
  const h = Math.floor((secs % 86400) / 3600);
  const m = Math.floor((secs % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  return `${m} min`;
}

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
  /** What each goal risks, in the backend's words (loaded once). */
  risks = $state.raw<GoalRisk[]>([]);

  constructor(
    private readonly commands: FleetCommands,
    private readonly repo: () => string | null,
  ) {}

  /** The backend's sentence on what `goal` risks. */
  risk(goal: string): string | null {
    return this.risks.find((r) => r.goal === goal)?.risk ?? null;
  }

  async loadRisks(): Promise<void> {
    if (this.risks.length) return;
    try {
      this.risks = await this.commands.deployGoalRisks();
    } catch (err) {
      this.error = toIpcError(err);
    }
  }

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
