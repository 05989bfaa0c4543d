// Wire types that are not generated. Everything the backend sends is generated
// from the Rust types into ../bindings (src-tauri/crates/nixdeck-api/tests/bindings.rs);
// what is left here are the commands' argument shapes.
import type { Deployment, DiskIdentity, Diagnostic, HostFacts, IdentityChange, LayoutView, Preflight, ReviewGate, SystemConfig, WritePlan } from "../bindings";

/** Disko's JSON for `disko.devices`: drawn and sent back, never interpreted for rules. */
export type LayoutJson = LayoutView["layout"];

/** How the probe logs in (`AuthChoice`); the password lives for one call only. */
export type AuthChoice = { kind: "agent" } | { kind: "key_file"; path: string } | { kind: "password"; password: string };

export interface ProbeRequest {
  repo: string;
  host: string;
  address: string;
  user: string;
  port: number;
  auth: AuthChoice;
  trustFingerprint: string | null;
}

/** Everything the wizard collected, to review and write as `hosts/<name>/`. */
export interface NewHost {
  repo: string;
  deployment: Deployment;
  config: SystemConfig;
  layout: LayoutJson;
  identityFile: string | null;
}

// ---- TEMPORARY (issue 13): answers of the nixdeck-api crate, written by hand until
// they derive ts_rs::TS there and join the list in tests/bindings.rs. Remove then. ----

export interface StartedJob { jobId: string }
export interface DeployPreview { selected: string[]; argv: string[] }
export interface InstallCheck { preflight: Preflight; confirmed: DiskIdentity[]; changes: IdentityChange[]; argv: string[] }
export interface HardwareStatus { path: string; exists: boolean; tracked: boolean; uncommitted: boolean }
export interface HostFiles { configuration: string | null; disko: string | null; hardware: string | null }
export interface HostKeyCheck {
  status: "matches" | "changed" | "unknown" | "unreachable";
  knownAs: string | null;
  oldFingerprint: string | null;
  newFingerprint: string | null;
  message: string | null;
}
export type ProbeOutcome =
  | { kind: "facts"; facts: HostFacts; storedAt: string }
  | { kind: "unknown_host_key"; host: string; fingerprint: string; keyType: string; hint: string };
export interface FieldProblem { field: "name" | "address" | "user" | "port" | "tags"; message: string }
export interface KeyOffer { source: "file" | "agent"; label: string; key: string }
export interface ConfigPreview { text: string; problem: string | null }
/** The review step; the gate (`blockers`, `toAcknowledge`, `toConfirm`) is nixdeck_core::review::review_gate, flattened in. */
export type HostReview = ReviewGate & {
  plan: WritePlan;
  command: string;
  erase: { identity: DiskIdentity; model: string | null; transport: string | null; mounts: string[]; holdsData: boolean }[];
  preflight: Preflight;
  layoutDiagnostics: Diagnostic[];
};
