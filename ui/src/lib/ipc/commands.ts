// The only module that talks to the backend. Each function is one app command
// (see src-tauri/src/commands/), typed on both sides.
import { invoke } from "@tauri-apps/api/core";
import type { DoctorReport, RecentRepo, RepoView } from "./types";
import type {
  Applied,
  FieldProblem,
  HostFacts,
  HostReview,
  KeyOffer,
  LayoutEdit,
  LayoutJson,
  LayoutView,
  NewHost,
  ProbeOutcome,
  ProbeRequest,
  SystemConfig,
  TemplateInfo,
} from "./types";

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
    invoke<{ text: string; problem: string | null }>("preview_configuration", { config }),
  reviewNewHost: (host: NewHost) => invoke<HostReview>("review_new_host", { host }),
  writeNewHost: (host: NewHost, confirm: string[]) => invoke<Applied>("write_new_host", { host, confirm }),
  probeHost: (request: ProbeRequest) => invoke<ProbeOutcome>("probe_host", { request }),
  loadFacts: (repo: string, host: string) => invoke<HostFacts | null>("load_facts", { repo, host }),
  layoutTemplates: () => invoke<TemplateInfo[]>("layout_templates"),
  layoutFromTemplate: (repo: string, host: string, name: string, disks: string[]) =>
    invoke<LayoutView>("layout_from_template", { repo, host, name, disks }),
  layoutFromRepo: (repo: string, host: string) => invoke<LayoutView | null>("layout_from_repo", { repo, host }),
  applyLayoutEdit: (repo: string, host: string, layout: LayoutJson, edit: LayoutEdit) =>
    invoke<LayoutView>("apply_layout_edit", { repo, host, layout, edit }),
  layoutView: (repo: string, host: string, layout: LayoutJson) => invoke<LayoutView>("layout_view", { repo, host, layout }),
  /** The fleet helper's command (agreed seam): preflight, disk re-check, nixos-anywhere as a job. */
  startInstall: (args: { repo: string; host: string; confirm: string; acknowledged: string[] }) =>
    invoke<{ jobId: string }>("start_install", args),
};

export type Commands = typeof commands;
