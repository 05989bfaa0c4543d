// The only module that talks to the backend. Each function is one app command
// (see src-tauri/src/commands/), typed on both sides.
import { invoke } from "@tauri-apps/api/core";
import type { DoctorReport, RecentRepo, RepoView } from "./types";

export const commands = {
  doctorReport: () => invoke<DoctorReport>("doctor_report"),
  listRecentRepos: () => invoke<RecentRepo[]>("list_recent_repos"),
  forgetRecentRepo: (path: string) => invoke<RecentRepo[]>("forget_recent_repo", { path }),
  pickFolder: (title: string) => invoke<string | null>("pick_folder", { title }),
  openRepo: (path: string) => invoke<RepoView>("open_repo", { path }),
  createRepo: (path: string, nixpkgs: string) => invoke<RepoView>("create_repo", { path, nixpkgs }),
};

export type Commands = typeof commands;
