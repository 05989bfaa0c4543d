import type { Commands } from "../ipc/commands";
import { toIpcError } from "../ipc/errors";
import type { ApiError } from "../bindings";
import type { AuthChoice, FieldProblem, HostReview, KeyOffer, NewHost } from "../ipc/types";
import { LayoutDraft } from "./layoutDraft.svelte";
import { ProbeState } from "./probe.svelte";

export const STEPS = [
  { id: "identity", title: "Identity & access" },
  { id: "probe", title: "Connect & probe" },
  { id: "layout", title: "Disk layout" },
  { id: "system", title: "System" },
  { id: "review", title: "Review" },
  { id: "install", title: "Install" },
] as const;

export type StepId = (typeof STEPS)[number]["id"];

type Api = Pick<
  Commands,
  | "checkHostIdentity"
  | "pickFile"
  | "listSshKeys"
  | "previewConfiguration"
  | "reviewNewHost"
  | "writeNewHost"
  | "probeHost"
  | "hostFacts"
  | "applyLayoutEdit"
  | "layoutView"
  | "layoutFromTemplate"
  | "layoutFromRepo"
  | "layoutTemplates"
  | "startInstall"
  | "recordHostFacts"
>;

/**
 * The new-host wizard: every step's data lives here, so going back loses nothing.
 * Moving forward asks the backend whether the step is complete (names, findings,
 * preflight); the wizard itself only keeps track of where the person is.
 */
export class WizardState {
  index = $state(0);
  /** The furthest step reached: the step list lets the person jump back to any before it. */
  reached = $state(0);
  busy = $state(false);
  error = $state.raw<ApiError | null>(null);

  identity = $state({
    name: "",
    address: "",
    user: "root",
    port: 22,
    /** Tags as typed: comma- or space-separated. */
    tags: "",
    auth: "agent" as AuthChoice["kind"],
    keyFile: "",
    password: "",
  });
  problems = $state.raw<FieldProblem[]>([]);

  readonly probe: ProbeState;
  readonly layout: LayoutDraft;

  system = $state({
    authorizedKeys: [] as string[],
    /** Packages as typed: space- or comma-separated. */
    packages: "git vim",
    stateVersion: "25.05",
  });
  keyOffers = $state.raw<KeyOffer[]>([]);
  configPreview = $state.raw<{ text: string; problem: string | null } | null>(null);

  review = $state.raw<HostReview | null>(null);
  acknowledged = $state<string[]>([]);
  /** Paths of files that need a go-ahead (edited by hand) that the person confirmed. */
  confirmed = $state<string[]>([]);
  typedName = $state("");
  /** The person says they can log in another way when the review finds nobody could. */
  allowLockout = $state(false);
  /** The install's secrets as typed on review: sent once with the start, then cleared. */
  secrets = $state({ sshPassword: "", luksPassphrase: "", luksPassphraseAgain: "" });
  installed = $state.raw<string[] | null>(null);

  constructor(
    private readonly api: Api,
    readonly repo: string,
  ) {
    this.probe = new ProbeState(api);
    this.layout = new LayoutDraft(api, () => ({ repo: this.repo, host: this.identity.name.trim() }));
  }

  get step(): StepId {
    return STEPS[this.index].id;
  }

  get tags(): string[] {
    return this.identity.tags.split(/[\s,]+/).filter(Boolean);
  }

  get packages(): string[] {
    return this.system.packages.split(/[\s,]+/).filter(Boolean);
  }

  get hostName(): string {
    return this.identity.name.trim();
  }

  problem(field: FieldProblem["field"]): string | null {
    return this.problems.find((p) => p.field === field)?.message ?? null;
  }

  back(): void {
    if (this.index > 0) this.index -= 1;
    this.error = null;
  }

  goTo(index: number): void {
    if (index <= this.reached && index !== this.index) {
      this.index = index;
      this.error = null;
    }
  }

  /** Whether the current step lets the person go on (the backend's answers decide). */
  get canContinue(): boolean {
    switch (this.step) {
      case "identity":
        return this.hostName !== "" && this.identity.address.trim() !== "";
      case "probe":
        return this.probe.status === "done" && this.probe.chosen.length > 0;
      case "layout":
        return this.layout.view !== null && this.layout.errors.length === 0;
      case "system":
        return this.configPreview !== null && this.configPreview.problem === null;
      default:
        return false;
    }
  }

  async next(): Promise<void> {
    if (this.step === "identity") {
      const ok = await this.run(async () => {
        this.problems = await this.api.checkHostIdentity(this.repo, this.identityInput());
      });
      if (!ok || this.problems.length > 0) return;
    }
    if (!this.canContinue) return;
    this.index += 1;
    this.reached = Math.max(this.reached, this.index);
    await this.enter();
  }

  /** Loads what a step shows when it is entered. */
  async enter(): Promise<void> {
    if (this.step === "layout") {
      await this.layout.loadTemplates();
      if (!this.layout.view) await this.layout.fromRepo();
    } else if (this.step === "system") {
      if (this.keyOffers.length === 0) {
        await this.run(async () => {
          this.keyOffers = await this.api.listSshKeys();
        });
      }
      await this.refreshPreview();
    } else if (this.step === "review") {
      await this.loadReview();
    }
  }

  async probeNow(): Promise<void> {
    await this.probe.run({
      repo: this.repo,
      host: this.hostName,
      address: this.identity.address.trim(),
      user: this.identity.user.trim(),
      port: Number(this.identity.port),
      auth: this.authChoice(),
    });
  }

  async pickKeyFile(): Promise<void> {
    await this.run(async () => {
      const path = await this.api.pickFile("Choose the SSH private key");
      if (path) this.identity.keyFile = path;
    });
  }

  toggleKey(key: string): void {
    const keys = this.system.authorizedKeys;
    this.system.authorizedKeys = keys.includes(key) ? keys.filter((k) => k !== key) : [...keys, key];
    void this.refreshPreview();
  }

  async refreshPreview(): Promise<void> {
    await this.run(async () => {
      this.configPreview = await this.api.previewConfiguration(this.newHost().config);
    });
  }

  async loadReview(): Promise<void> {
    this.review = null;
    this.typedName = "";
    await this.run(async () => {
      this.review = await this.api.reviewNewHost(this.newHost());
    });
  }

  /** Files that replace text nixdeck did not write: each needs the person's go-ahead (the review says which). */
  get pending(): string[] {
    return this.review?.toConfirm ?? [];
  }

  /** What the review says blocks the install, and the ticks the person has not given yet. */
  get blockers(): string[] {
    const r = this.review;
    if (!r) return ["the review is not loaded"];
    const out = [...r.blockers];
    for (const f of r.toAcknowledge) if (!this.acknowledged.includes(f.rule)) out.push(`acknowledge: ${f.message}`);
    for (const p of r.toConfirm) if (!this.confirmed.includes(p)) out.push(`confirm the change to ${p}`);
    if (r.login.kind === "locked" && !this.allowLockout) out.push("nobody could log in afterwards: add your key, or tick that you can log in another way");
    // The backend checks the passphrases again; this only says what is missing.
    if (r.trust.needsLuksPassphrase) {
      if (this.secrets.luksPassphrase === "" || this.secrets.luksPassphraseAgain === "") out.push("type the LUKS passphrase twice");
      else if (this.secrets.luksPassphrase !== this.secrets.luksPassphraseAgain) out.push("the two LUKS passphrases differ");
    }
    return out;
  }

  /** Install is enabled only with nothing blocking and the host name typed exactly. */
  get canInstall(): boolean {
    return this.blockers.length === 0 && this.typedName === this.hostName && !this.busy;
  }

  acknowledge(rule: string, on: boolean): void {
    this.acknowledged = on ? [...new Set([...this.acknowledged, rule])] : this.acknowledged.filter((r) => r !== rule);
  }

  confirm(path: string, on: boolean): void {
    this.confirmed = on ? [...new Set([...this.confirmed, path])] : this.confirmed.filter((p) => p !== path);
  }

  /** Writes the host's files, then starts the install; resolves to the job id. */
  async install(): Promise<string | null> {
    if (!this.canInstall) return null;
    let jobId: string | null = null;
    await this.run(async () => {
      // The confirmations as the person saw them: a file edited again since is refused.
      const seen = (this.review?.seen ?? []).filter((s) => this.confirmed.includes(s.path));
      const applied = await this.api.writeNewHost(this.newHost(), seen);
      this.installed = applied.written;
      // The facts the person saw on review: the install re-checks the disks against them.
      if (this.probe.facts) await this.api.recordHostFacts(this.repo, this.hostName, this.probe.facts);
      this.index = STEPS.length - 1;
      this.reached = this.index;
      jobId = await this.startInstall(this.review?.login.kind === "locked" && this.allowLockout);
    });
    return jobId;
  }

  /** After a `lockout` refusal (the files are written): the person says they can log
   *  in another way, and the install is asked for again with that override. */
  async installAllowingLockout(): Promise<string | null> {
    let jobId: string | null = null;
    await this.run(async () => {
      jobId = await this.startInstall(true);
    });
    return jobId;
  }

  private async startInstall(allowLockout: boolean): Promise<string> {
    const luks = this.review?.trust.needsLuksPassphrase ?? false;
    // The probe's password logs the install in too; a rescue password typed on review wins.
    const sshPassword = this.secrets.sshPassword || (this.identity.auth === "password" ? this.identity.password : "");
    let keep = false;
    try {
      const started = await this.api.startInstall({
        repo: this.repo,
        host: this.hostName,
        confirm: this.typedName,
        acknowledged: this.acknowledged,
        identityFile: this.newHost().identityFile,
        allowLockout,
        secrets: {
          sshPassword: sshPassword || undefined,
          luksPassphrase: luks ? this.secrets.luksPassphrase : undefined,
          luksPassphraseAgain: luks ? this.secrets.luksPassphraseAgain : undefined,
        },
      });
      return started.jobId;
    } catch (err) {
      // A lockout refusal is asked again with the override at once: keep what was typed for that.
      keep = (err as { code?: string } | null)?.code === "lockout";
      throw err;
    } finally {
      // Never shown again, nor kept.
      if (!keep) this.secrets = { sshPassword: "", luksPassphrase: "", luksPassphraseAgain: "" };
    }
  }

  newHost(): NewHost {
    const facts = this.probe.facts;
    return {
      repo: this.repo,
      deployment: {
        targetHost: this.identity.address.trim(),
        targetPort: Number(this.identity.port),
        targetUser: this.identity.user.trim(),
        tags: this.tags,
        buildOnTarget: false,
        allowLocalDeployment: true,
      },
      config: {
        hostName: this.hostName,
        authorizedKeys: this.system.authorizedKeys,
        packages: this.packages,
        stateVersion: this.system.stateVersion,
        bootMode: facts?.boot_mode ?? "uefi",
      },
      layout: this.layout.view?.layout ?? {},
      identityFile: this.identity.auth === "key_file" && this.identity.keyFile ? this.identity.keyFile : null,
    };
  }

  private identityInput() {
    const i = this.identity;
    return { name: i.name.trim(), address: i.address.trim(), user: i.user.trim(), port: Number(i.port), tags: this.tags };
  }

  private authChoice(): AuthChoice {
    const i = this.identity;
    if (i.auth === "key_file") return { kind: "key_file", path: i.keyFile };
    if (i.auth === "password") return { kind: "password", password: i.password };
    return { kind: "agent" };
  }

  private async run(action: () => Promise<void>): Promise<boolean> {
    this.busy = true;
    this.error = null;
    try {
      await action();
      return true;
    } catch (err) {
      this.error = toIpcError(err);
      return false;
    } finally {
      this.busy = false;
    }
  }
}
