import type { Commands } from "../ipc/commands";
import { toIpcError } from "../ipc/errors";
import type { ApiError, DoctorReport } from "../bindings";

/** The doctor panel: the backend's report of the local machine, loaded once per visit. */
export class DoctorState {
  report = $state.raw<DoctorReport | null>(null);
  error = $state.raw<ApiError | null>(null);
  loading = $state(false);

  constructor(private readonly api: Pick<Commands, "doctorReport">) {}

  async load(): Promise<void> {
    this.loading = true;
    this.error = null;
    try {
      this.report = await this.api.doctorReport();
    } catch (err) {
      this.error = toIpcError(err);
    } finally {
      this.loading = false;
    }
  }

  /** Checks that need the user's attention, for the summary line. */
  get problems(): number {
    return this.report?.checks.filter((c) => c.status !== "ok").length ?? 0;
  }
}
