// The one wire type that is not generated: what the UI calls disko's JSON. Every
// other type the backend sends or takes is generated from the Rust types into
// ../bindings (src-tauri/crates/nixdeck-api/tests/bindings.rs) and re-exported here
// under the names the state classes use.
import type { LayoutView, LocalKey } from "../bindings";

/** Disko's JSON for `disko.devices`: drawn and sent back, never interpreted for rules. */
export type LayoutJson = LayoutView["layout"];

/** A public key offered for `authorized_keys`. */
export type KeyOffer = LocalKey;

export type {
  AuthChoice,
  ConfigPreview,
  DeployPreview,
  FieldProblem,
  HardwareStatus,
  HostFiles,
  HostKeyCheck,
  HostReview,
  InstallCheck,
  InstallSecrets,
  InstallTrust,
  NewHost,
  ProbeOutcome,
  ProbeRequest,
  StartedJob,
} from "../bindings";
