// The host page's data: recorded facts, the host's files, its install checks
// and job history. Everything comes from the backend as it is.
import type { Commands } from "../ipc/commands";
import { toIpcError } from "../ipc/errors";
import type { ApiError, Applied, DiskCheckView, GenerationsView, HostFacts, JobRecord, LayoutSavePlan } from "../bindings";
import type { HardwareStatus, HostFiles, InstallCheck, InstallSecrets, LayoutJson } from "../ipc/types";

export type HostCommands = Pick<
  Commands,
  | "hostFacts"
  | "hostFiles"
  | "installCheck"
  | "listJobs"
  | "reprobeHost"
  | "startInstall"
  | "startValidate"
  | "hostGenerations"
  | "startRollback"
  | "hardwareStatus"
  | "commitHardwareConfig"
>;

export class HostState {
  facts = $state.raw<HostFacts | null>(null);
  files = $state.raw<HostFiles | null>(null);
  check = $state.raw<InstallCheck | null>(null);
  checkError = $state.raw<ApiError | null>(null);
  jobs = $state.raw<JobRecord[]>([]);
  error = $state.raw<ApiError | null>(null);
  busy = $state<string | null>(null);
  /** The system generations as read over SSH just now. */
  generations = $state.raw<GenerationsView | null>(null);
  generationsError = $state.raw<ApiError | null>(null);
  generationsLoading = $state(false);
  /** hardware-configuration.nix against git: a reinstall's rewrite shows as a diff before the commit. */
  hardware = $state.raw<HardwareStatus | null>(null);

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
      this.loadGenerations(),
      this.commands.hardwareStatus(this.repo, this.name).then((h) => (this.hardware = h), fail),
    ]);
  }

  /** Reads the host's generations (what runs, what booted) over SSH. */
  async loadGenerations(): Promise<void> {
    this.generationsLoading = true;
    try {
      this.generations = await this.commands.hostGenerations(this.repo, this.name);
      this.generationsError = null;
    } catch (err) {
      this.generations = null;
      this.generationsError = toIpcError(err);
    } finally {
      this.generationsLoading = false;
    }
  }

  /**
   * Rolls back to generation `to` (null: the previous one); `confirm` is the
   * host's name typed again, checked by the backend. The job's id to open.
   */
  async rollback(to: number | null, confirm: string): Promise<string | null> {
    let id: string | null = null;
    await this.step("rollback", async () => {
      id = (await this.commands.startRollback(this.repo, this.name, to, confirm)).jobId;
    });
    return id;
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

  /** The check says nobody could log in after the install (the person may override). */
  get lockedOut(): boolean {
    return this.check?.login.kind === "locked";
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

  /** Commits hardware-configuration.nix as shown in `hardware.diff`. */
  async commitHardware(): Promise<void> {
    await this.step("commit-hardware", async () => {
      this.hardware = await this.commands.commitHardwareConfig(this.repo, this.name);
    });
  }

  /** Re-install: the typed name and acknowledged warnings, checked again by the backend. */
  async install(
    confirm: string,
    acknowledged: string[],
    allowLockout = false,
    secrets: InstallSecrets | null = null,
  ): Promise<string | null> {
    let id: string | null = null;
    await this.step("install", async () => {
      id = (await this.commands.startInstall({ repo: this.repo, host: this.name, confirm, acknowledged, allowLockout, secrets })).jobId;
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

export type DiskCheckCommands = Pick<Commands, "diskCheck" | "diskCheckAfterInstall">;

/**
 * Before and after: the host's disks as probed beside the layout in its
 * disko.nix, compared by the backend. `reprobe` reads the disks again first
 * (after an install, or when asked); otherwise the last probe is used.
 */
export class DiskCheckState {
  view = $state.raw<DiskCheckView | null>(null);
  error = $state.raw<ApiError | null>(null);
  busy = $state(false);

  constructor(
    private readonly commands: DiskCheckCommands,
    readonly repo: string,
    readonly host: string,
    /** The install job whose host this is: probes log in as it did. */
    readonly installJob: string | null = null,
  ) {}

  async load(reprobe: boolean): Promise<void> {
    this.busy = true;
    try {
      this.view =
        reprobe && this.installJob !== null
          ? await this.commands.diskCheckAfterInstall(this.installJob)
          : await this.commands.diskCheck(this.repo, this.host, reprobe);
      this.error = null;
    } catch (err) {
      this.error = toIpcError(err);
    } finally {
      this.busy = false;
    }
  }
}

export type HostLayoutCommands = Pick<Commands, "planLayoutSave" | "saveLayout">;

/**
 * Saving an installed host's edited layout: what the backend says applying
 * it means, the hand-edited files to confirm, and the save itself.
 */
export class HostLayoutSave {
  plan = $state.raw<LayoutSavePlan | null>(null);
  /** Pending paths the person ticked. */
  confirmed = $state.raw<string[]>([]);
  saved = $state.raw<Applied | null>(null);
  error = $state.raw<ApiError | null>(null);
  busy = $state(false);
  private asked = 0;

  constructor(
    private readonly commands: HostLayoutCommands,
    readonly repo: string,
    readonly host: string,
  ) {}

  /** Asks what saving `layout` writes and what applying it means. */
  async review(layout: LayoutJson): Promise<void> {
    // Edits come faster than answers: only the latest question's answer counts.
    const mine = ++this.asked;
    await this.run(async () => {
      const plan = await this.commands.planLayoutSave(this.repo, this.host, layout);
      if (mine !== this.asked) return;
      this.plan = plan;
      this.confirmed = this.confirmed.filter((p) => plan.pending.includes(p));
      this.saved = null;
    });
  }

  confirm(path: string, on: boolean): void {
    this.confirmed = on ? [...new Set([...this.confirmed, path])] : this.confirmed.filter((p) => p !== path);
  }

  /** Every hand-edited file is confirmed (the backend checks again). */
  get ready(): boolean {
    return this.plan !== null && this.plan.pending.every((p) => this.confirmed.includes(p));
  }

  async save(layout: LayoutJson): Promise<void> {
    await this.run(async () => {
      this.saved = await this.commands.saveLayout(this.repo, this.host, layout, this.confirmed);
    });
  }

  private async run(f: () => Promise<void>): Promise<void> {
    this.busy = true;
    try {
      await f();
      this.error = null;
    } catch (err) {
      this.error = toIpcError(err);
    } finally {
      this.busy = false;
    }
  }
}
