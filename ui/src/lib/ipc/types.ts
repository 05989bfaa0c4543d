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
  | { kind: "stalled"; secs: number }
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
