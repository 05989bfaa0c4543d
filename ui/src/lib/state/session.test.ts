import { describe, expect, it, vi } from "vitest";
import { SessionState } from "./session.svelte";
import type { RepoView } from "../bindings";

const view: RepoView = { root: "/tmp/infra", hasFlake: true, inputs: [], nixpkgsUrl: null, hosts: [], problems: [] };

describe("SessionState", () => {
  it("opens a repository and tells listeners", async () => {
    const onchange = vi.fn();
    const openRepo = vi.fn(async () => view);
    const session = new SessionState(
      { openRepo, createRepo: vi.fn(), pickFolder: vi.fn() },
      onchange,
    );
    await session.open("/tmp/infra");
    expect(openRepo).toHaveBeenCalledWith("/tmp/infra");
    expect(session.repo).toBe(view);
    expect(onchange).toHaveBeenCalledOnce();
    expect(session.busy).toBe(false);
  });

  it("keeps the start screen and shows the error when opening fails", async () => {
    const session = new SessionState({
      openRepo: async () => {
        throw { code: "not_found", message: "no flake.nix in /x", hint: "pick the repository's root" };
      },
      createRepo: vi.fn(),
      pickFolder: vi.fn(),
    });
    await session.open("/x");
    expect(session.repo).toBeNull();
    expect(session.error?.code).toBe("not_found");
    expect(session.error?.hint).toBe("pick the repository's root");
  });

  it("passes the chosen nixpkgs branch when creating", async () => {
    const createRepo = vi.fn(async () => view);
    const session = new SessionState({ openRepo: vi.fn(), createRepo, pickFolder: vi.fn() });
    await session.create("/tmp/new", "nixos-unstable");
    expect(createRepo).toHaveBeenCalledWith("/tmp/new", "nixos-unstable");
    expect(session.repo).toBe(view);
  });
});
