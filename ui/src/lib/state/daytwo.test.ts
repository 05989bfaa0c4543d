import { describe, expect, it } from "vitest";
import { HostLayoutSave, HostState, type HostCommands } from "./host.svelte";
import { SafetyNetState } from "./safety.svelte";
import type { LayoutSavePlan, SafetyReport } from "../bindings";

const plan = (verdict: "unchanged" | "add_only" | "reinstall", pending: string[]): LayoutSavePlan =>
  ({
    plan: { changes: [], remove_dirs: [], notes: [] },
    pending,
    changes: { verdict, statement: verdict, changes: [], how: null },
  }) as unknown as LayoutSavePlan;

describe("HostLayoutSave", () => {
  it("keeps only the latest answer and needs every hand edit ticked", async () => {
    const answers: ((p: LayoutSavePlan) => void)[] = [];
    const saved: string[][] = [];
    const save = new HostLayoutSave(
      {
        planLayoutSave: () => new Promise((resolve) => answers.push(resolve)),
        saveLayout: async (_r, _h, _l, confirm) => {
          saved.push(confirm);
          return { written: ["hosts/web1/disko.nix"], deleted: [], gitInitialised: false, notes: [] };
        },
      },
      "/repo",
      "web1",
    );
    const first = save.review({});
    const second = save.review({});
    answers[1]?.(plan("add_only", ["hosts/web1/disko.nix"]));
    answers[0]?.(plan("reinstall", []));
    await Promise.all([first, second]);
    expect(save.plan?.changes.verdict).toBe("add_only");
    expect(save.ready).toBe(false);
    save.confirm("hosts/web1/disko.nix", true);
    expect(save.ready).toBe(true);
    await save.save({});
    expect(saved).toEqual([["hosts/web1/disko.nix"]]);
    expect(save.saved?.written).toEqual(["hosts/web1/disko.nix"]);
  });
});

describe("HostState rollback", () => {
  it("passes the typed name and the generation to the backend and shows its refusal", async () => {
    const calls: [number | null, string][] = [];
    const commands = {
      startRollback: async (_repo: string, _host: string, to: number | null, confirm: string) => {
        calls.push([to, confirm]);
        if (confirm !== "web1") throw { code: "validation", message: "type the host name web1 to confirm", hint: null };
        return { jobId: "9" };
      },
    } as unknown as HostCommands;
    const host = new HostState(commands, "/repo", "web1");
    expect(await host.rollback(null, "web")).toBeNull();
    expect(host.error?.message).toContain("type the host name");
    expect(await host.rollback(2, "web1")).toBe("9");
    expect(calls).toEqual([
      [null, "web"],
      [2, "web1"],
    ]);
  });
});

describe("SafetyNetState", () => {
  it("asks again while the backend is checking, then stops", async () => {
    const reports: (SafetyReport | null)[] = [
      null,
      { jobId: "3", repo: "/r", checking: true, limitSecs: 60, nodes: [], recorded: [] },
      { jobId: "3", repo: "/r", checking: false, limitSecs: 60, nodes: [], recorded: ["web1"] },
    ];
    let asked = 0;
    const net = new SafetyNetState(
      { deploySafety: async () => reports[Math.min(asked++, 2)] ?? null, recheckNode: async () => reports[2]! },
      "3",
      1,
    );
    await net.poll();
    await new Promise((r) => setTimeout(r, 50));
    expect(net.report?.checking).toBe(false);
    expect(asked).toBe(3);
    net.stop();
  });
});
