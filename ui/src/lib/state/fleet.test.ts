import { describe, expect, it } from "vitest";
import { FleetState, type FleetCommands } from "./fleet.svelte";
import type { HostSummary } from "../bindings";

function fleet(select: (filter: string) => string[]) {
  const calls: string[] = [];
  const commands: FleetCommands = {
    previewDeploy: async (_repo, filter, goal) => {
      calls.push(`${filter} ${goal}`);
      const selected = select(filter);
      if (!selected.length) throw { code: "validation", message: `the host filter "${filter}" selects no host`, hint: null };
      const argv = ["nix", "run", "github:zhaofengli/colmena", "--", "apply", goal ?? "", "--on", filter];
      return { selected, targets: [], argv, command: argv.join(" ") };
    },
    startDeploy: async () => ({ jobId: "7" }),
    startValidate: async () => ({ jobId: "8" }),
  };
  return { state: new FleetState(commands, () => "/repo"), calls };
}

const host = (name: string, tags: string[]) => ({ name, tags }) as HostSummary;

describe("FleetState", () => {
  it("builds the --on filter from a tag or ticked hosts and shows the backend's selection", async () => {
    const { state, calls } = fleet((f) => (f === "@web" ? ["web1", "web2"] : f.split(",")));
    state.pickTag("web");
    await state.refresh();
    expect(state.filter).toBe("@web");
    expect(state.preview?.selected).toEqual(["web1", "web2"]);
    state.toggle("db1");
    state.toggle("web1");
    await state.refresh();
    expect(state.tag).toBeNull();
    expect(state.filter).toBe("db1,web1");
    expect(state.preview?.selected).toEqual(["db1", "web1"]);
    state.setGoal("boot");
    await state.refresh();
    expect(calls.at(-1)).toBe("db1,web1 boot");
    expect(await state.deploy()).toBe("7");
  });

  it("an empty selection shows the backend's error and nothing to deploy", async () => {
    const { state } = fleet(() => []);
    state.pickTag("mail");
    await state.refresh();
    expect(state.preview).toBeNull();
    expect(state.error?.message).toContain("selects no host");
    expect(await state.deploy()).toBeNull();
    state.pickTag(null);
    await state.refresh();
    expect(state.filter).toBe("");
    expect(state.error).toBeNull();
  });

  it("lists tags with their host counts", () => {
    expect(FleetState.tags([host("a", ["web", "prod"]), host("b", ["web"])])).toEqual([
      { tag: "prod", count: 1 },
      { tag: "web", count: 2 },
    ]);
  });
});
