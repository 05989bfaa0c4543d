import { describe, expect, it } from "vitest";
import { FleetState, FleetStatus, formatUptime, type FleetCommands } from "./fleet.svelte";
import type { HostRow, HostSummary } from "../bindings";

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
    deployGoalRisks: async () => [{ goal: "switch", risk: "switches now" }],
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

describe("FleetStatus", () => {
  const row = (host: string, reachable: boolean) =>
    ({ host, reachable, drift: { state: "unknown", label: "unknown", short: "unknown", explanation: "", basis: null } }) as HostRow;

  it("shows each row as it arrives, then the complete answer", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const status = new FleetStatus({
      fleetStatus: async (_repo, _filter, onRow) => {
        onRow(row("web1", true));
        await gate;
        onRow(row("db1", false));
        return [row("db1", false), row("web1", true)];
      },
    });
    const done = status.refresh("/repo");
    expect(status.running).toBe(true);
    expect(status.row("web1")?.reachable).toBe(true);
    expect(status.row("db1")).toBeNull();
    expect(status.answered).toBe(1);
    release();
    await done;
    expect(status.running).toBe(false);
    expect(status.row("db1")?.reachable).toBe(false);
    expect(status.answered).toBe(2);
    expect(status.took).not.toBeNull();
  });

  it("drops rows of an older run and of another repository", async () => {
    const calls: ((r: HostRow) => void)[] = [];
    const finish: (() => void)[] = [];
    const status = new FleetStatus({
      fleetStatus: (_repo, _filter, onRow) => {
        calls.push(onRow);
        return new Promise((resolve) => finish.push(() => resolve([])));
      },
    });
    const first = status.refresh("/a");
    const second = status.refresh("/b");
    calls[0]?.(row("old", true));
    expect(status.row("old")).toBeNull();
    calls[1]?.(row("new", true));
    expect(status.row("new")).not.toBeNull();
    finish.forEach((f) => f());
    await Promise.all([first, second]);
    expect(status.repo).toBe("/b");
    status.ensure("/b");
    expect(calls.length).toBe(2);
    // Read long enough ago: shown again, it is read again.
    status.ensure("/b", -1);
    expect(calls.length).toBe(3);
  });

  it("formats uptime in days, hours or minutes", () => {
    expect(formatUptime(93784)).toBe("1 d 2 h");
    expect(formatUptime(3 * 3600 + 120)).toBe("3 h 2 min");
    expect(formatUptime(59)).toBe("0 min");
    expect(formatUptime(null)).toBe("—");
  });
});
