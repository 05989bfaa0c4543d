// The only module that talks to the backend. Each function is one app command
// (see src-tauri/src/commands/), typed on both sides: answers with the types
// generated from Rust (../bindings), arguments with ./types.
import { Channel, invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type { Applied, DiskCheckView, DoctorReport, Explanation, GenerationsView, LayoutSavePlan, SafetyReport, GoalRisk, HostFacts, HostRow, JobEvent, JobRecord, LayoutEdit, LayoutUpdate, LogLines, LogSearchDirection, LayoutView, RecentRepo, RepoView, SeenChange, SystemConfig, TemplateInfo, WritePlan } from "../bindings";
import type { ConfigPreview, DeployPreview, FieldProblem, HardwareStatus, HostFiles, HostKeyCheck, HostReview, InstallCheck, InstallSecrets, KeyOffer, LayoutJson, NewHost, ProbeOutcome, ProbeRequest, StartedJob } from "./types";

export const commands = {
  doctorReport: () => invoke<DoctorReport>("doctor_report"),
  listRecentRepos: () => invoke<RecentRepo[]>("list_recent_repos"),
  forgetRecentRepo: (path: string) => invoke<RecentRepo[]>("forget_recent_repo", { path }),
  pickFolder: (title: string) => invoke<string | null>("pick_folder", { title }),
  openRepo: (path: string) => invoke<RepoView>("open_repo", { path }),
  createRepo: (path: string, nixpkgs: string) => invoke<RepoView>("create_repo", { path, nixpkgs }),
  // wizard: identity, probe, layout editor, review
  checkHostIdentity: (repo: string, input: { name: string; address: string; user: string; port: number; tags: string[] }) =>
    invoke<FieldProblem[]>("check_host_identity", { repo, input }),
  pickFile: (title: string) => invoke<string | null>("pick_file", { title }),
  listSshKeys: () => invoke<KeyOffer[]>("list_ssh_keys"),
  previewConfiguration: (config: SystemConfig) =>
    invoke<ConfigPreview>("preview_configuration", { config }),
  reviewNewHost: (host: NewHost) => invoke<HostReview>("review_new_host", { host }),
  /** `confirm`: the review's `seen` entries of the files the person confirmed (bound to the text they saw). */
  writeNewHost: (host: NewHost, confirm: SeenChange[]) => invoke<Applied>("write_new_host", { host, confirm }),
  probeHost: (request: ProbeRequest) => invoke<ProbeOutcome>("probe_host", { request }),
  layoutTemplates: () => invoke<TemplateInfo[]>("layout_templates"),
  layoutFromTemplate: (repo: string, host: string, name: string, disks: string[]) =>
    invoke<LayoutView>("layout_from_template", { repo, host, name, disks }),
  layoutFromRepo: (repo: string, host: string) => invoke<LayoutView | null>("layout_from_repo", { repo, host }),
  /** `base`: the digest of the view held here; the answer is then what changed since it. */
  applyLayoutEdit: (repo: string, host: string, layout: LayoutJson, edit: LayoutEdit, base: string | null) =>
    invoke<LayoutUpdate>("apply_layout_edit", { repo, host, layout, edit, base }),
  /** `base`: the digest of the view held here; the answer is then what changed since it. */
  layoutView: (repo: string, host: string, layout: LayoutJson, base: string | null) =>
    invoke<LayoutUpdate>("layout_view", { repo, host, layout, base }),
  // fleet: jobs, install, redeploy, host page
  listJobs: (host?: string) => invoke<JobRecord[]>("list_jobs", { host: host ?? null }),
  getJob: (id: string) => invoke<JobRecord>("get_job", { id }),
  /**
   * Streams job `id`'s counts, steps, latest lines and end (its lines are
   * paged with `logLines`); returns a function that stops listening.
   */
  attachJob: async (id: string, onEvent: (event: JobEvent) => void): Promise<() => void> => {
    let live = true;
    const channel = new Channel<JobEvent>();
    channel.onmessage = (event) => {
      if (live) onEvent(event);
    };
    await invoke<void>("attach_job", { id, onEvent: channel });
    return () => {
      live = false;
    };
  },
  /** Lines `from .. from + count` of job `id`'s log, read from disk, and how many it has. */
  logLines: (id: string, from: number, count: number) => invoke<LogLines>("log_lines", { id, from, count }),
  /** The first line from `from` (included) in `direction` that holds `query`, or null. */
  logSearch: (id: string, query: string, from: number, direction: LogSearchDirection, ignoreCase: boolean) =>
    invoke<number | null>("log_search", { id, query, from, direction, ignoreCase }),
  cancelJob: (id: string) => invoke<void>("cancel_job", { id }),
  /** The window was asked to close while jobs run here (the backend held the close). */
  onCloseRequested: (handler: (jobs: JobRecord[]) => void): Promise<() => void> =>
    listen<JobRecord[]>("close-requested", (event) => handler(event.payload)),
  /** The close dialog's answer: cancel the jobs, or leave them running; then the app exits. */
  closeApp: (choice: "cancel" | "leave") => invoke<void>("close_app", { choice }),
  explainJob: (id: string) => invoke<Explanation>("explain_job", { id }),
  startValidate: (repo: string, host: string) => invoke<StartedJob>("start_validate", { repo, host }),
  previewDeploy: (repo: string, filter: string, goal: string | null, buildOnTarget: boolean, reboot: boolean) =>
    invoke<DeployPreview>("preview_deploy", { repo, filter, goal, buildOnTarget, reboot }),
  /** `allowLockout`: deploy even where the backend found nobody could log in afterwards (error code `lockout`). */
  startDeploy: (repo: string, filter: string, goal: string | null, buildOnTarget: boolean, reboot: boolean, allowLockout = false) =>
    invoke<StartedJob>("start_deploy", { repo, filter, goal, buildOnTarget, reboot, allowLockout }),
  /** The wizard's seam: runs preflight and the disk re-check, then nixos-anywhere. */
  startInstall: (args: {
    repo: string;
    host: string;
    confirm: string;
    acknowledged: string[];
    /** The key the probe logged in with (`-i`), when not the agent's or a default one. */
    identityFile?: string | null;
    /** Install even where the backend found nobody could log in afterwards (error code `lockout`). */
    allowLockout?: boolean;
    /** An SSH password and a LUKS passphrase (typed twice): checked and used by the backend, never stored. */
    secrets?: InstallSecrets | null;
  }) => invoke<StartedJob>("start_install", { identityFile: null, allowLockout: false, secrets: null, ...args }),
  recordHostFacts: (repo: string, host: string, facts: unknown) => invoke<void>("record_host_facts", { repo, host, facts }),
  hostFacts: (repo: string, host: string) => invoke<HostFacts | null>("host_facts", { repo, host }),
  installCheck: (repo: string, host: string) => invoke<InstallCheck>("install_check", { repo, host }),
  hardwareStatus: (repo: string, host: string) => invoke<HardwareStatus>("hardware_status", { repo, host }),
  commitHardwareConfig: (repo: string, host: string) => invoke<HardwareStatus>("commit_hardware_config", { repo, host }),
  reprobeHost: (repo: string, host: string) => invoke<HostFacts>("reprobe_host", { repo, host }),
  hostFiles: (repo: string, host: string) => invoke<HostFiles>("host_files", { repo, host }),
  planRemoveHost: (repo: string, host: string) => invoke<WritePlan>("plan_remove_host", { repo, host }),
  removeHost: (repo: string, host: string, confirmed: SeenChange[]) =>
    invoke<RepoView>("remove_host", { repo, host, confirmed }),
  checkHostKey: (repo: string, host: string) => invoke<HostKeyCheck>("check_host_key", { repo, host }),
  replaceHostKey: (repo: string, host: string, fingerprint: string) =>
    invoke<HostKeyCheck>("replace_host_key", { repo, host, fingerprint }),
  // day two: status, generations, rollback
  /** Status of the hosts `filter` selects (all when null); `onRow` gets each row as its host answers. */
  fleetStatus: (repo: string, filter: string | null, onRow: (row: HostRow) => void): Promise<HostRow[]> => {
    const channel = new Channel<HostRow>();
    channel.onmessage = onRow;
    return invoke<HostRow[]>("fleet_status", { repo, filter, onRow: channel });
  },
  hostGenerations: (repo: string, host: string) => invoke<GenerationsView>("host_generations", { repo, host }),
  /** `to`: a generation number, or null for the previous one. */
  startRollback: (repo: string, host: string, to: number | null, confirm: string) =>
    invoke<StartedJob>("start_rollback", { repo, host, to, confirm }),
  deployGoalRisks: () => invoke<GoalRisk[]>("deploy_goal_risks"),
  deploySafety: (id: string) => invoke<SafetyReport | null>("deploy_safety", { id }),
  recheckNode: (id: string, node: string) => invoke<SafetyReport>("recheck_node", { id, node }),
  // an installed host's layout: edit and save, before/after
  planLayoutSave: (repo: string, host: string, layout: LayoutJson) =>
    invoke<LayoutSavePlan>("plan_layout_save", { repo, host, layout }),
  saveLayout: (repo: string, host: string, layout: LayoutJson, confirm: string[]) =>
    invoke<Applied>("save_layout", { repo, host, layout, confirm }),
  diskCheck: (repo: string, host: string, reprobe: boolean) => invoke<DiskCheckView>("disk_check", { repo, host, reprobe }),
  /** After install job `id`: its host probed again as the install logged in. */
  diskCheckAfterInstall: (id: string) => invoke<DiskCheckView>("disk_check_after_install", { id }),
};

export type Commands = typeof commands;
