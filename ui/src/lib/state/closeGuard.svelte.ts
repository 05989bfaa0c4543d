// Closing the window while an install or deploy runs: the backend holds the close
// and says which jobs run; the person cancels them, leaves them running (they go
// on without nixdeck, recorded with their pid) or stays.
import type { Commands } from "../ipc/commands";
import { toIpcError } from "../ipc/errors";
import type { ApiError, JobRecord } from "../bindings";

export class CloseGuard {
  /** The jobs that would be left unsupervised; empty: no question pending. */
  jobs = $state.raw<JobRecord[]>([]);
  error = $state.raw<ApiError | null>(null);
  busy = $state<"cancel" | "leave" | null>(null);

  constructor(private readonly api: Pick<Commands, "onCloseRequested" | "closeApp">) {}

  /** Starts listening; the returned function stops. */
  listen(): Promise<() => void> {
    return this.api.onCloseRequested((jobs) => {
      this.jobs = jobs;
      this.error = null;
    });
  }

  get asking(): boolean {
    return this.jobs.length > 0;
  }

  async answer(choice: "cancel" | "leave"): Promise<void> {
    this.busy = choice;
    this.error = null;
    try {
      await this.api.closeApp(choice);
    } catch (err) {
      this.error = toIpcError(err);
    } finally {
      this.busy = null;
    }
  }

  stay(): void {
    this.jobs = [];
    this.error = null;
  }
}
