// Wire types of the app's commands, mirroring the Rust structs they come from
// (`nixdeck_engine::doctor`, `nixdeck_engine::recent`, `src-tauri/src/error.rs`).

export type CheckStatus = "ok" | "warning" | "missing";

export interface Check {
  id: string;
  label: string;
  status: CheckStatus;
  detail: string;
  fix: string | null;
}

export interface LocalSystem {
  os: string;
  arch: string;
  memory_bytes: number;
  cpus: number;
}

export interface DoctorReport {
  checks: Check[];
  system: LocalSystem;
}

export interface RecentRepo {
  path: string;
  opened_at: number;
}

export type ErrorCode =
  | "validation"
  | "host_key_mismatch"
  | "host_key_unknown"
  | "auth_failed"
  | "unreachable"
  | "tool_missing"
  | "process_failed"
  | "conflict"
  | "cancelled"
  | "not_found"
  | "internal";

export interface IpcError {
  code: ErrorCode;
  message: string;
  hint: string | null;
}

/** One host of an opened repository, as far as nixdeck can read it (`nixdeck_core::repo::HostSummary`). */
export interface HostSummary {
  name: string;
  validName: boolean;
  hasDirectory: boolean;
  hasConfiguration: boolean;
  hasDisko: boolean;
  hasHardwareConfiguration: boolean;
  hasHostData: boolean;
  inNixosConfigurations: boolean | null;
  inColmena: boolean | null;
  system: string | null;
  address: string | null;
  port: number | null;
  user: string | null;
  tags: string[];
  buildOnTarget: boolean | null;
  deploymentRead: boolean;
  notes: string[];
}

export interface Problem {
  host: string | null;
  message: string;
}

/** An opened repository: its hosts and what nixdeck could not understand (`nixdeck_core::repo::RepoView`). */
export interface RepoView {
  root: string;
  hasFlake: boolean;
  inputs: string[];
  nixpkgsUrl: string | null;
  hosts: HostSummary[];
  problems: Problem[];
}

// ---- fleet: jobs, install, redeploy, host page (src-tauri/src/commands/jobs.rs,
// nixdeck_engine::runner::events, nixdeck_core::{preflight, tools::explain, tools::watchdog}) ----

export type JobKind = "lock" | "validate" | "install" | "deploy";
export type JobResult = "running" | "succeeded" | "failed" | "cancelled" | "interrupted";

export interface JobRecord {
  id: number;
  kind: JobKind;
  hosts: string[];
  argv: string[];
  cwd: string;
  started_at: number;
  ended_at: number | null;
  exit_code: number | null;
  signal: number | null;
  result: JobResult;
  reason: string | null;
  log_path: string;
  lines: number;
}

export interface Outcome {
  result: JobResult;
  exit_code: number | null;
  signal: number | null;
  reason: string | null;
  lines: number;
}

export interface PhaseEvent {
  node: string | null;
  phase: string;
  label: string;
  seq: number;
  at_ms: number;
  detail: string | null;
}

export type JobEvent =
  | { kind: "started"; argv: string[] }
  | { kind: "lines"; stream: "stdout" | "stderr" | "log"; first_seq: number; lines: string[] }
  | ({ kind: "phase" } & PhaseEvent)
  | { kind: "stalled"; secs: number; alert: WatchdogAlert | null }
  | { kind: "finished"; outcome: Outcome };

export interface StartedJob {
  jobId: string;
}

export interface DeployPreview {
  selected: string[];
  argv: string[];
}

export interface Duration {
  secs: number;
  nanos: number;
}

export interface WatchdogAlert {
  kind: "silent" | "repeated_step" | "repeated_line";
  silent_for?: Duration;
  limit?: Duration;
  count?: number;
  text?: string;
  step: string;
  node?: string;
  line: number;
  message: string;
  usual_causes: string;
}

export interface ExplainQuote {
  line: number;
  text: string;
}

export interface ExplainFinding {
  severity: "error" | "warning";
  kind: string;
  line: number;
  message: string;
  step?: string;
  node?: string;
  quote: ExplainQuote[];
}

export interface Explanation {
  tool: "nixos-anywhere" | "colmena";
  outcome: "succeeded" | "succeeded_with_warnings" | "failed" | "incomplete";
  steps: { name: string; first_line: number; last_line: number }[];
  last_step: string | null;
  nodes: Record<string, string>;
  findings: ExplainFinding[];
  exit_status: number | null;
  lines: number;
  summary: string;
}

export interface PreflightFinding {
  rule: string;
  severity: "error" | "warning";
  message: string;
  disk?: string;
}

export interface DiskIdentity {
  name: string;
  path: string;
  stable_name: string;
  serial: string | null;
  model: string | null;
  size_bytes: number;
}

export interface IdentityChange {
  name: string;
  confirmed: DiskIdentity;
  now: DiskIdentity | null;
  differences: string[];
}

export interface InstallCheck {
  preflight: { findings: PreflightFinding[] };
  confirmed: DiskIdentity[];
  changes: IdentityChange[];
  argv: string[];
}

export interface HardwareStatus {
  path: string;
  exists: boolean;
  tracked: boolean;
  uncommitted: boolean;
}

export interface HostFiles {
  configuration: string | null;
  disko: string | null;
  hardware: string | null;
}

/** `nixdeck_core::facts::HostFacts`, the parts the host page shows. */
export interface HostFactsView {
  probed_at: number;
  address: string;
  hostname: string;
  machine: string;
  system: string | null;
  boot_mode: string;
  memory_bytes: number;
  os: { pretty_name?: string | null; id?: string | null; [k: string]: unknown };
  is_nixos_installer: boolean;
  virtualization: string | null;
  user: string;
  disks: { name: string; path: string; model: string | null; serial: string | null; size_bytes: number; by_id: string[]; [k: string]: unknown }[];
  warnings: string[];
  [k: string]: unknown;
}

export interface HostKeyCheck {
  status: "matches" | "changed" | "unknown" | "unreachable";
  knownAs: string | null;
  oldFingerprint: string | null;
  newFingerprint: string | null;
  message: string | null;
}

// --- wizard: probe, layout editor, review (src-tauri/src/commands/{probe,layout,hosts}.rs) ---

export type BootMode = "uefi" | "bios";

/** One block device (`nixdeck_core::facts::BlockDevice`, snake_case). */
export interface BlockDevice {
  name: string;
  path: string;
  size_bytes: number;
  kind: string;
  model: string | null;
  serial: string | null;
  wwn: string | null;
  transport: string | null;
  rotational: boolean;
  removable: boolean;
  read_only: boolean;
  fstype: string | null;
  label: string | null;
  uuid: string | null;
  partlabel: string | null;
  pttype: string | null;
  mountpoints: string[];
  by_id: string[];
  children: BlockDevice[];
}

/** What the probe read (`nixdeck_core::facts::HostFacts`, snake_case). */
export interface HostFacts {
  probed_at: number;
  address: string;
  hostname: string;
  machine: string;
  system: string | null;
  kernel_name: string;
  kernel_release: string;
  boot_mode: BootMode;
  memory_bytes: number;
  os: { id: string; version_id: string; pretty_name: string; variant_id: string };
  is_nixos_installer: boolean;
  virtualization: string | null;
  container: string | null;
  user: string;
  privilege: "root" | "sudo_without_password" | "doas_without_password" | "none";
  disks: BlockDevice[];
  warnings: string[];
}

export type AuthChoice =
  | { kind: "agent" }
  | { kind: "key_file"; path: string }
  | { kind: "password"; password: string };

export interface ProbeRequest {
  repo: string;
  host: string;
  address: string;
  user: string;
  port: number;
  auth: AuthChoice;
  trustFingerprint: string | null;
}

export type ProbeOutcome =
  | { kind: "facts"; facts: HostFacts; storedAt: string }
  | { kind: "unknown_host_key"; host: string; fingerprint: string; keyType: string; hint: string };

export interface FieldProblem {
  field: "name" | "address" | "user" | "port" | "tags";
  message: string;
}

export interface KeyOffer {
  source: "file" | "agent";
  label: string;
  key: string;
}

export interface TemplateInfo {
  name: string;
  title: string;
  description: string;
  disks: number;
}

export interface Diagnostic {
  severity: "error" | "warning";
  rule: string;
  path: string;
  message: string;
}

export interface Segment {
  offset: number;
  size: number;
  label: string;
  path: string;
  content_type: string | null;
  mountpoint: string | null;
}

export interface SpacePlan {
  kind: "disk" | "md_array" | "volume_group" | "volume";
  path: string;
  size: number;
  segments: Segment[];
  free: { offset: number; size: number }[];
  problems: { path: string; message: string }[];
}

export interface LayoutDisk {
  name: string;
  path: string;
  device: string | null;
  sizeBytes: number | null;
  model: string | null;
  serial: string | null;
  transport: string | null;
  stableName: string | null;
  kernelPath: string | null;
}

/** Disko's JSON for `disko.devices`: drawn, never interpreted for rules. */
export type LayoutJson = Record<string, unknown>;

export interface LayoutView {
  layout: LayoutJson;
  diagnostics: Diagnostic[];
  preview: string;
  space: { plans: SpacePlan[]; members: { kind: string; group: string; path: string; size: number }[] };
  disks: LayoutDisk[];
  needs: { esp: boolean; bios_boot: boolean; gpt: boolean; disks: string[] };
}

export type LayoutEdit =
  | { kind: "set_size"; path: string; size: string }
  | { kind: "add"; path: string; name: string | null; value: unknown }
  | { kind: "remove"; path: string }
  | { kind: "move"; path: string; by: number }
  | { kind: "rename"; path: string; to: string }
  | { kind: "set"; path: string; value: unknown };

export interface Deployment {
  targetHost: string;
  targetPort: number;
  targetUser: string;
  tags: string[];
  buildOnTarget: boolean;
  allowLocalDeployment: boolean;
}

export interface SystemConfig {
  hostName: string;
  authorizedKeys: string[];
  packages: string[];
  stateVersion: string;
  bootMode: BootMode;
}

export interface NewHost {
  repo: string;
  deployment: Deployment;
  config: SystemConfig;
  layout: LayoutJson;
  identityFile: string | null;
}

export interface FileChange {
  path: string;
  action: { kind: "write"; content: string } | { kind: "delete" } | { kind: "move"; from: string; content: string };
  ownership: "absent" | "nixdeck" | "edited" | "foreign";
  currentHash: string | null;
  diff: string;
}

export interface WritePlan {
  changes: FileChange[];
  removeDirs: string[];
  notes: string[];
}

export interface HostReview {
  plan: WritePlan;
  command: string;
  erase: { identity: DiskIdentity; model: string | null; transport: string | null; mounts: string[]; holdsData: boolean }[];
  preflight: { findings: PreflightFinding[] };
  layoutDiagnostics: Diagnostic[];
}

export interface Applied {
  written: string[];
  deleted: string[];
  gitInitialised: boolean;
  notes: string[];
}
