import type { Commands } from "../ipc/commands";
import { toIpcError } from "../ipc/errors";
import type { ApiError, RecentRepo } from "../bindings";

/** Recently opened repositories, as the backend remembers them. */
export class RecentState {
  list = $state.raw<RecentRepo[]>([]);
  error = $state.raw<ApiError | null>(null);

  constructor(private readonly api: Pick<Commands, "listRecentRepos" | "forgetRecentRepo">) {}

  async load(): Promise<void> {
    try {
      this.list = await this.api.listRecentRepos();
    } catch (err) {
      this.error = toIpcError(err);
    }
  }

  async forget(path: string): Promise<void> {
    try {
      this.list = await this.api.forgetRecentRepo(path);
    } catch (err) {
      this.error = toIpcError(err);
    }
  }
}
