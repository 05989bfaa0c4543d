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

/** One host of an opened repository, as far as nixdeck can read it. */
export interface HostSummary {
  name: string;
  address: string | null;
  user: string | null;
  port: number | null;
  tags: string[];
  has_disko: boolean;
  has_hardware_config: boolean;
  in_colmena: boolean;
}

/** An opened repository: its hosts and what nixdeck could not understand. */
export interface RepoView {
  path: string;
  hosts: HostSummary[];
  problems: string[];
}
