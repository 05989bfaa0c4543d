// One job as the job screen shows it (JobView), and the history (JobHistory).
// Events come from the backend's runner and parsers; this class only applies
// them: line counts and live lines into the paged log (LogPager, which reads
// the rest from the job's log on disk), phases into steps with durations,
// node states into a table. It holds no rule about the tools.
import type { Commands } from "../ipc/commands";
import { toIpcError } from "../ipc/errors";
import type { HardwareStatus, HostKeyCheck } from "../ipc/types";
import type { ApiError, Explanation, JobEvent, JobOutcome, JobRecord, PhaseEvent, WatchdogAlert } from "../bindings";
import { LogPager } from "./logPager.svelte";

/** A run phase with how long it took (until the next began, or until now/the end). */
export interface StepView {
  phase: string;
  label: string;
  atMs: number;
  durationMs: number | null;
  status: "done" | "running" | "failed";
  detail: string | null;
  seq: number;
}

export interface NodeView {
  node: string;
  phase: string;
  label: string;
  detail: string | null;
  atMs: number;
}

const ENDS = new Set(["succeeded", "failed"]);

export type JobCommands = Pick<
  Commands,
  | "getJob"
  | "attachJob"
  | "logLines"
  | "logSearch"
  | "cancelJob"
  | "explainJob"
  | "hardwareStatus"
  | "commitHardwareConfig"
  | "checkHostKey"
  | "replaceHostKey"
>;

export class JobView {
  record = $state.raw<JobRecord | null>(null);
  argv = $state.raw<string[]>([]);
  /** The log, paged from disk; live events bring its count and latest lines. */
  readonly log: LogPager;
  runPhases = $state.raw<PhaseEvent[]>([]);
  nodes = $state.raw<Record<string, NodeView>>({});
  stalledSecs = $state<number | null>(null);
  outcome = $state.raw<JobOutcome | null>(null);
  alerts = $state.raw<WatchdogAlert[]>([]);
  /** Alerts the user chose to keep waiting through. */
  dismissed = $state(0);
  explanation = $state.raw<Explanation | null>(null);
  hardware = $state.raw<HardwareStatus | null>(null);
  hostKey = $state.raw<HostKeyCheck | null>(null);
  checkingKey = $state(false);
  error = $state.raw<ApiError | null>(null);
  cancelling = $state(false);
  /** Milliseconds since the job started, ticking while it runs. */
  elapsedMs = $state(0);
  /** Phases carry real times (false when a finished job's log is replayed: it has none). */
  timed = $state(true);

  private stop: (() => void) | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly commands: JobCommands,
    readonly id: string,
  ) {
    this.log = new LogPager(commands, id);
  }

  get running(): boolean {
    return this.outcome === null && (this.record?.result ?? "running") === "running";
  }

  get lineCount(): number {
    return this.log.total;
  }

  /** Applies one event from the backend. */
  apply(event: JobEvent): void {
    switch (event.kind) {
      case "started":
        this.argv = event.argv;
        break;
      case "lines":
        this.log.addLive(event.first_seq, event.lines, event.styled);
        this.stalledSecs = null;
        break;
      case "lines_dropped":
        // Written to the log faster than the window takes them: counted here,
        // read from the log if they come into sight.
        this.log.grow(event.first_seq + event.count);
        this.stalledSecs = null;
        break;
      case "phase": {
        const { kind: _k, ...phase } = event;
        if (phase.node === null) {
          // Replays after a re-attach repeat phases already seen.
          if (!this.runPhases.some((p) => p.seq === phase.seq && p.phase === phase.phase))
            this.runPhases = [...this.runPhases, phase];
        } else {
          this.nodes = {
            ...this.nodes,
            [phase.node]: { node: phase.node, phase: phase.phase, label: phase.label, detail: phase.detail, atMs: phase.at_ms },
          };
        }
        break;
      }
      case "stalled":
        this.stalledSecs = event.secs;
        // The watchdog's words on a quiet or repeating step come with the event.
        if (event.alert) this.alerts = [...this.alerts, event.alert];
        break;
      case "finished":
        this.log.grow(event.outcome.lines);
        this.outcome = event.outcome;
        this.stalledSecs = null;
        break;
    }
  }

  /**
   * The run's steps with durations; the last runs until the end (or now). An
   * `aborted` event is no step of its own: it marks the step it happened in
   * as failed, with its reason.
   */
  get steps(): StepView[] {
    const phases = this.runPhases.filter((p) => p.phase !== "aborted");
    const abort = this.runPhases.find((p) => p.phase === "aborted") ?? null;
    const endMs = this.endMs;
    const failed = this.outcome !== null && this.outcome.result !== "succeeded";
    return phases.map((p, i) => {
      const next = phases[i + 1];
      const isLast = i === phases.length - 1;
      const until = next ? next.at_ms : endMs;
      let status: StepView["status"] = "done";
      let detail = p.detail;
      if (isLast && abort) {
        status = "failed";
        detail = abort.detail;
      } else if (isLast && this.outcome === null) status = "running";
      else if (isLast && failed) status = "failed";
      return {
        phase: p.phase,
        label: p.label,
        atMs: p.at_ms,
        durationMs: until === null || !this.timed ? null : Math.max(0, until - p.at_ms),
        status,
        detail,
        seq: p.seq,
      };
    });
  }

  private get endMs(): number | null {
    const r = this.record;
    if (r && r.ended_at !== null) return r.ended_at - r.started_at;
    if (this.outcome === null) return this.elapsedMs;
    return null;
  }

  /** Nodes in name order, for the node table. */
  get nodeList(): NodeView[] {
    return Object.values(this.nodes).sort((a, b) => a.node.localeCompare(b.node));
  }

  get nodesDone(): number {
    return this.nodeList.filter((n) => ENDS.has(n.phase)).length;
  }

  /** The watchdog notice to show now, unless dismissed. */
  get notice(): WatchdogAlert | null {
    if (!this.running) return null;
    return this.alerts.length > this.dismissed ? this.alerts[this.alerts.length - 1] : null;
  }

  /** Whether cancelling now can leave the target's disks half-written (the backend's parser says, per phase). */
  get cancelIsRisky(): boolean {
    return this.runPhases.at(-1)?.disks_at_risk ?? false;
  }

  async open(): Promise<void> {
    try {
      this.record = await this.commands.getJob(this.id);
      this.timed = this.record.result === "running";
      this.log.grow(this.record.lines);
      this.stop = await this.commands.attachJob(this.id, (e) => {
        this.apply(e);
        if (e.kind === "finished") void this.finish();
      });
      if (this.running) {
        this.timer = setInterval(() => this.tick(), 1000);
      } else {
        await this.finish();
      }
    } catch (err) {
      this.error = toIpcError(err);
    }
  }

  private tick(): void {
    if (this.record) this.elapsedMs = Date.now() - this.record.started_at;
  }

  private finishing: Promise<void> | null = null;

  /** Reads the end once, however many ways it is noticed (event or record). */
  private finish(): Promise<void> {
    this.finishing ??= this.readEnd();
    return this.finishing;
  }

  private async readEnd(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    try {
      this.record = await this.commands.getJob(this.id);
      if (this.record.kind === "install" || this.record.kind === "deploy") {
        this.explanation = await this.commands.explainJob(this.id);
      }
      if (this.record.kind === "install" && this.record.result === "succeeded" && this.record.hosts[0]) {
        this.hardware = await this.commands.hardwareStatus(this.record.cwd, this.record.hosts[0]);
      }
    } catch (err) {
      this.error = toIpcError(err);
    }
  }

  async cancel(): Promise<void> {
    this.cancelling = true;
    try {
      await this.commands.cancelJob(this.id);
      // A job left running by a closed nixdeck sends no events here: read how it ended.
      if (this.record?.detached_pid) this.record = await this.commands.getJob(this.id);
    } catch (err) {
      this.error = toIpcError(err);
    } finally {
      this.cancelling = false;
    }
  }

  keepWaiting(): void {
    this.dismissed = this.alerts.length;
  }

  async commitHardware(): Promise<void> {
    const r = this.record;
    if (!r || !r.hosts[0]) return;
    try {
      this.hardware = await this.commands.commitHardwareConfig(r.cwd, r.hosts[0]);
    } catch (err) {
      this.error = toIpcError(err);
    }
  }

  /** Connects to the installed host and compares its key with known_hosts. */
  async checkHostKey(): Promise<void> {
    const r = this.record;
    if (!r || !r.hosts[0]) return;
    this.checkingKey = true;
    try {
      this.hostKey = await this.commands.checkHostKey(r.cwd, r.hosts[0]);
    } catch (err) {
      this.error = toIpcError(err);
    } finally {
      this.checkingKey = false;
    }
  }

  /** Replaces the old key by the new one the user saw (its fingerprint). */
  async replaceHostKey(): Promise<void> {
    const r = this.record;
    const fp = this.hostKey?.newFingerprint;
    if (!r || !r.hosts[0] || !fp) return;
    this.checkingKey = true;
    try {
      this.hostKey = await this.commands.replaceHostKey(r.cwd, r.hosts[0], fp);
    } catch (err) {
      this.error = toIpcError(err);
    } finally {
      this.checkingKey = false;
    }
  }

  close(): void {
    this.stop?.();
    this.stop = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/** The job history, for a host or the whole repository. */
export class JobHistory {
  jobs = $state.raw<JobRecord[]>([]);
  loading = $state(false);
  error = $state.raw<ApiError | null>(null);

  constructor(private readonly commands: Pick<Commands, "listJobs">) {}

  async load(host?: string, repo?: string): Promise<void> {
    this.loading = true;
    try {
      const all = await this.commands.listJobs(host);
      this.jobs = repo ? all.filter((j) => j.cwd === repo) : all;
      this.error = null;
    } catch (err) {
      this.error = toIpcError(err);
    } finally {
      this.loading = false;
    }
  }

  /** The newest job touching `host`. */
  lastFor(host: string): JobRecord | null {
    return this.jobs.find((j) => j.hosts.includes(host)) ?? null;
  }
}

/** "1.2 s", "3 min 04 s": durations as the stepper shows them. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return "";
  if (ms < 1000) return `${ms} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}
