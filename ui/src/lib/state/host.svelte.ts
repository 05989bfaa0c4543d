// The host page's data: recorded facts, the host's files, its install checks
// and job history. Everything comes from the backend as it is.
import type { Commands } from "../ipc/commands";
import { toIpcError } from "../ipc/errors";
import type { ApiError, HostFacts, JobRecord } from "../bindings";
import type { HostFiles, InstallCheck, InstallSecrets } from "../ipc/types";

export type HostCommands = Pick<
  Commands,
  "hostFacts" | "hostFiles" | "installCheck" | "listJobs" | "reprobeHost" | "startInstall" | "startValidate"
>;

export class HostState {
  facts = $state.raw<HostFacts | null>(null);
  files = $state.raw<HostFiles | null>(null);
  check = $state.raw<InstallCheck | null>(null);
  checkError = $state.raw<ApiError | null>(null);
  jobs = $state.raw<JobRecord[]>([]);
  error = $state.raw<ApiError | null>(null);
  busy = $state<string | null>(null);

  constructor(
    private readonly commands: HostCommands,
    readonly repo: string,
    readonly name: string,
  ) {}

  async load(): Promise<void> {
    // Each part shows as soon as it arrives: the files wait for disko.nix to be
    // evaluated (for its summary), the history and facts need not.
    const fail = (err: unknown) => {
      this.error = toIpcError(err);
    };
    await Promise.all([
      this.commands.hostFacts(this.repo, this.name).then((facts) => (this.facts = facts), fail),
      this.commands.listJobs(this.name).then((jobs) => (this.jobs = jobs.filter((j) => j.cwd === this.repo)), fail),
      this.commands.hostFiles(this.repo, this.name).then((files) => (this.files = files), fail),
      this.loadCheck(),
    ]);
  }

  async loadCheck(): Promise<void> {
    try {
      this.check = await this.commands.installCheck(this.repo, this.name);
      this.checkError = null;
    } catch (err) {
      this.check = null;
      this.checkError = toIpcError(err);
    }
  }

  /** Warning rules the user must acknowledge before installing. */
  get warnings(): string[] {
    return [...new Set((this.check?.preflight.findings ?? []).filter((f) => f.severity === "warning").map((f) => f.rule))];
  }

  get blocked(): boolean {
    return (this.check?.preflight.findings ?? []).some((f) => f.severity === "error");
  }

  async reprobe(): Promise<void> {
    await this.step("reprobe", async () => {
      this.facts = await this.commands.reprobeHost(this.repo, this.name);
      await this.loadCheck();
    });
  }

  async validate(): Promise<string | null> {
    let id: string | null = null;
    await this.step("validate", async () => {
      id = (await this.commands.startValidate(this.repo, this.name)).jobId;
    });
    return id;
  }

  /** Re-install: the typed name and acknowledged warnings, checked again by the backend. */
  async install(confirm: string, acknowledged: string[], secrets: InstallSecrets | null = null): Promise<string | null> {
    let id: string | null = null;
    await this.step("install", async () => {
      id = (await this.commands.startInstall({ repo: this.repo, host: this.name, confirm, acknowledged, secrets })).jobId;
    });
    return id;
  }

  private async step(name: string, f: () => Promise<void>): Promise<void> {
    this.busy = name;
    try {
      await f();
      this.error = null;
    } catch (err) {
      this.error = toIpcError(err);
    } finally {
      this.busy = null;
    }
  }
}
