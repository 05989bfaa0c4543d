import { describe, expect, it, vi } from "vitest";
import { RemoveHostState } from "./removeHost.svelte";
import type { FileChange, RepoView, WritePlan } from "../bindings";

const change = (path: string, ownership: FileChange["ownership"]): FileChange => ({
  path,
  action: { kind: "delete" },
  ownership,
  currentHash: null,
  diff: "",
});
const view: RepoView = { root: "/r", hasFlake: true, inputs: [], nixpkgsUrl: null, hosts: [], problems: [] };

describe("RemoveHostState", () => {
  it("needs a tick for every edited file before it removes", async () => {
    const plan: WritePlan = {
      changes: [change("hosts/web/host.nix", "nixdeck"), change("hosts/web/configuration.nix", "edited")],
      removeDirs: ["hosts/web"],
      notes: [],
    };
    const removeHost = vi.fn(async () => view);
    const state = new RemoveHostState({ planRemoveHost: async () => plan, removeHost }, "/r", "web");
    await state.load();
    expect(state.edited).toEqual(["hosts/web/configuration.nix"]);
    expect(state.ready).toBe(false);
    expect(await state.remove()).toBeNull();
    expect(removeHost).not.toHaveBeenCalled();

    state.toggle("hosts/web/configuration.nix", true);
    expect(state.ready).toBe(true);
    expect(await state.remove()).toBe(view);
    expect(removeHost).toHaveBeenCalledWith("/r", "web", [{ path: "hosts/web/configuration.nix", currentHash: null, proposedHash: null }]);
  });

  it("keeps the backend's refusal as an error", async () => {
    const state = new RemoveHostState(
      {
        planRemoveHost: async () => ({ changes: [], removeDirs: [], notes: [] }),
        removeHost: async () => {
          throw { code: "conflict", message: "changed since", hint: "plan again" };
        },
      },
      "/r",
      "web",
    );
    await state.load();
    expect(await state.remove()).toBeNull();
    expect(state.error?.code).toBe("conflict");
  });
});
