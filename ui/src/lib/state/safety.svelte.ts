// The deploy safety net on the job screen: the backend checks, after a deploy
// succeeded, that every switched node answers over SSH again, and keeps a
// report with the job. This class only fetches that report until it is
// complete, and asks for a node to be checked again.
import type { Commands } from "../ipc/commands";
import { toIpcError } from "../ipc/errors";
import type { ApiError, SafetyReport } from "../bindings";

export type SafetyCommands = Pick<Commands, "deploySafety" | "recheckNode">;

export class SafetyNetState {
  report = $state.raw<SafetyReport | null>(null);
  error = $state.raw<ApiError | null>(null);
  /** The node being checked again. */
  rechecking = $state<string | null>(null);
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(
    private readonly commands: SafetyCommands,
    readonly jobId: string,
    private readonly every = 1000,
  ) {}

  /** Fetches the report, again every second while the backend is still checking (or has not begun). */
  async poll(limit = 600): Promise<void> {
    if (this.stopped) return;
    try {
      this.report = await this.commands.deploySafety(this.jobId);
      this.error = null;
    } catch (err) {
      this.error = toIpcError(err);
      return;
    }
    if ((this.report === null || this.report.checking) && limit > 0) {
      this.timer = setTimeout(() => void this.poll(limit - 1), this.every);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  async recheck(node: string): Promise<void> {
    this.rechecking = node;
    try {
      this.report = await this.commands.recheckNode(this.jobId, node);
      this.error = null;
    } catch (err) {
      this.error = toIpcError(err);
    } finally {
      this.rechecking = null;
    }
  }
}
