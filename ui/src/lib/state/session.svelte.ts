import type { Commands } from "../ipc/commands";
import { toIpcError } from "../ipc/errors";
import type { ApiError, RepoView } from "../bindings";

/** Which repository is open, and opening/creating one. */
export class SessionState {
  repo = $state.raw<RepoView | null>(null);
  error = $state.raw<ApiError | null>(null);
  busy = $state(false);

  constructor(
    private readonly api: Pick<Commands, "openRepo" | "createRepo" | "pickFolder">,
    private readonly onchange: () => void = () => {},
  ) {}

  /** Asks for a folder; `null` when the user cancels the dialog. */
  async pick(title: string): Promise<string | null> {
    try {
      return await this.api.pickFolder(title);
    } catch (err) {
      this.error = toIpcError(err);
      return null;
    }
  }

  async open(path: string): Promise<void> {
    await this.run(() => this.api.openRepo(path));
  }

  async create(path: string, nixpkgs: string): Promise<void> {
    await this.run(() => this.api.createRepo(path, nixpkgs));
  }

  close(): void {
    this.repo = null;
    this.onchange();
  }

  private async run(action: () => Promise<RepoView>): Promise<void> {
    this.busy = true;
    this.error = null;
    try {
      this.repo = await action();
      this.onchange();
    } catch (err) {
      this.error = toIpcError(err);
    } finally {
      this.busy = false;
    }
  }
}
