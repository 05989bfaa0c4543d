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
