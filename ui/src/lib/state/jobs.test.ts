import { describe, expect, it } from "vitest";
import { JobView, formatDuration, type JobCommands } from "./jobs.svelte";
import type { JobEvent, JobRecord } from "../bindings";

const unused = (() => {
  throw new Error("not called in this test");
}) as never;
const commands: JobCommands = {
  getJob: unused,
  attachJob: unused,
  logLines: unused,
  logSearch: unused,
  cancelJob: unused,
  explainJob: unused,
  hardwareStatus: unused,
  commitHardwareConfig: unused,
  checkHostKey: unused,
  replaceHostKey: unused,
};

function phase(p: Partial<Extract<JobEvent, { kind: "phase" }>>): JobEvent {
  return { kind: "phase", node: null, phase: "facts", label: "Gathering machine facts", seq: 0, at_ms: 0, detail: null, disks_at_risk: false, ...p };
}

describe("JobView.apply", () => {
  it("turns run phases into steps with durations and marks the failing one", () => {
    const v = new JobView(commands, "1");
    v.record = { started_at: 1000, ended_at: 9000, result: "failed", kind: "install", hosts: ["db1"] } as JobRecord;
    v.apply({ kind: "started", argv: ["nix", "run"] });
    v.apply(phase({ phase: "upload_ssh_keys", label: "Uploading install SSH keys", at_ms: 0 }));
    v.apply(phase({ phase: "facts", label: "Gathering machine facts", seq: 4, at_ms: 1500 }));
    v.apply({ kind: "lines", stream: "stdout", first_seq: 0, lines: ["x", "y"] });
    v.apply({ kind: "finished", outcome: { result: "failed", exit_code: 1, signal: null, reason: "nixos-anywhere aborted: no sudo", lines: 2 } });
    expect(v.argv).toEqual(["nix", "run"]);
    expect(v.lineCount).toBe(2);
    const steps = v.steps;
    expect(steps.map((s) => [s.phase, s.durationMs, s.status])).toEqual([
      ["upload_ssh_keys", 1500, "done"],
      ["facts", 8000 - 1500, "failed"],
    ]);
    expect(v.running).toBe(false);
  });

  it("an abort marks the step it happened in as failed, with its reason", () => {
    const v = new JobView(commands, "5");
    v.apply(phase({ phase: "upload_ssh_keys", label: "Uploading install SSH keys", at_ms: 0 }));
    v.apply(phase({ phase: "facts", label: "Gathering machine facts", seq: 4, at_ms: 10 }));
    v.apply(phase({ phase: "aborted", label: "Aborted", seq: 5, at_ms: 20, detail: "no sudo" }));
    v.apply({ kind: "finished", outcome: { result: "failed", exit_code: 1, signal: null, reason: null, lines: 6 } });
    expect(v.steps.map((s) => [s.label, s.status, s.detail])).toEqual([
      ["Uploading install SSH keys", "done", null],
      ["Gathering machine facts", "failed", "no sudo"],
    ]);
  });

  it("does not repeat phases replayed by a re-attach", () => {
    const v = new JobView(commands, "1");
    v.apply(phase({ seq: 3 }));
    v.apply(phase({ seq: 3 }));
    expect(v.runPhases).toHaveLength(1);
  });

  it("keeps each colmena node's latest state", () => {
    const v = new JobView(commands, "2");
    v.apply(phase({ node: "web2", phase: "building", label: "Building" }));
    v.apply(phase({ node: "web1", phase: "building", label: "Building" }));
    v.apply(phase({ node: "web1", phase: "succeeded", label: "Succeeded" }));
    v.apply(phase({ node: "web2", phase: "failed", label: "Failed", detail: "build failed" }));
    expect(v.nodeList.map((n) => [n.node, n.phase, n.detail])).toEqual([
      ["web1", "succeeded", null],
      ["web2", "failed", "build failed"],
    ]);
    expect(v.nodesDone).toBe(2);
    expect(v.runPhases).toHaveLength(0);
  });

  it("counts lines the backend dropped for being too fast, and the end's count", () => {
    const v = new JobView(commands, "6");
    v.apply({ kind: "lines_dropped", first_seq: 0, count: 9_000 });
    v.apply({ kind: "lines", stream: "stdout", first_seq: 9_000, lines: ["a", "b"] });
    expect(v.lineCount).toBe(9_002);
    expect(v.log.textAt(9_001)).toBe("b");
    expect(v.log.textAt(100)).toBeNull();
    v.apply({ kind: "finished", outcome: { result: "succeeded", exit_code: 0, signal: null, reason: null, lines: 10_000 } });
    expect(v.lineCount).toBe(10_000);
  });

  it("shows a stall until output comes again, and warns on cancel after formatting began", () => {
    const v = new JobView(commands, "3");
    v.record = { kind: "install", result: "running", started_at: 0, ended_at: null } as JobRecord;
    v.apply({ kind: "stalled", secs: 120, alert: null });
    expect(v.stalledSecs).toBe(120);
    v.apply({ kind: "lines", stream: "stderr", first_seq: 0, lines: ["more"] });
    expect(v.stalledSecs).toBeNull();
    expect(v.cancelIsRisky).toBe(false);
    // The backend's parser marks the phases from disko's start on.
    v.apply(phase({ phase: "disko", label: "Formatting hard drive with disko", seq: 1, disks_at_risk: true }));
    expect(v.cancelIsRisky).toBe(true);
    v.apply(phase({ phase: "reboot", label: "Rebooting", seq: 2, disks_at_risk: false }));
    expect(v.cancelIsRisky).toBe(false);
  });

  it("takes the watchdog's notices from stall events", () => {
    const v = new JobView(commands, "5");
    v.record = { kind: "install", result: "running" } as JobRecord;
    v.apply({ kind: "stalled", secs: 600, alert: { kind: "repeated_step", count: 3, step: "Installing NixOS", line: 9, message: "the step started 3 times", usual_causes: "a reboot loop" } });
    expect(v.stalledSecs).toBe(600);
    expect(v.notice?.message).toBe("the step started 3 times");
  });

  it("offers the newest watchdog notice until the user keeps waiting", () => {
    const v = new JobView(commands, "4");
    v.record = { kind: "install", result: "running" } as JobRecord;
    v.alerts = [{ kind: "silent", silent_for: { secs: 600, nanos: 0 }, limit: { secs: 600, nanos: 0 }, step: "Installing NixOS", line: 9, message: "quiet for 10 min", usual_causes: "a slow build" }];
    expect(v.notice?.message).toBe("quiet for 10 min");
    v.keepWaiting();
    expect(v.notice).toBeNull();
  });

  it("takes the watchdog's alerts from the job's own stalled events", () => {
    const v = new JobView(commands, "5");
    v.record = { kind: "install", result: "running" } as JobRecord;
    v.apply({ kind: "stalled", secs: 120, alert: null });
    expect(v.stalledSecs).toBe(120);
    expect(v.notice).toBeNull();
    const alert = {
      kind: "silent" as const,
      silent_for: { secs: 600, nanos: 0 },
      limit: { secs: 600, nanos: 0 },
      step: "Formatting hard drive with disko",
      line: 4,
      message: "disko has been quiet for 10 min",
      usual_causes: "a disk that hangs",
    };
    v.apply({ kind: "stalled", secs: 600, alert });
    expect(v.notice?.message).toBe("disko has been quiet for 10 min");
  });
});

describe("formatDuration", () => {
  it("reads like a person would say it", () => {
    expect(formatDuration(450)).toBe("450 ms");
    expect(formatDuration(1500)).toBe("1.5 s");
    expect(formatDuration(184_000)).toBe("3 min 04 s");
    expect(formatDuration(null)).toBe("");
  });
});

describe("JobView.open", () => {
  it("reads a finished job's end once, though both the record and the event say it ended", async () => {
    let hardwareCalls = 0;
    const record = { id: 9, kind: "install", hosts: ["db1"], cwd: "/repo", result: "succeeded", started_at: 0, ended_at: 5 } as JobRecord;
    const v = new JobView(
      {
        ...commands,
        getJob: async () => record,
        attachJob: async (_id, onEvent) => {
          onEvent({ kind: "lines", stream: "log", first_seq: 0, lines: ["### Installing NixOS ###"] });
          onEvent({ kind: "finished", outcome: { result: "succeeded", exit_code: 0, signal: null, reason: null, lines: 1 } });
          return () => {};
        },
        explainJob: async () => ({ tool: "nixos-anywhere", outcome: "succeeded", steps: [], last_step: null, nodes: {}, findings: [], exit_status: 0, lines: 1, summary: "ok" }),
        hardwareStatus: async () => {
          hardwareCalls++;
          return { path: "hosts/db1/hardware-configuration.nix", exists: true, tracked: true, uncommitted: true, diff: "+{ }" };
        },
      },
      "9",
    );
    await v.open();
    expect(hardwareCalls).toBe(1);
    expect(v.timed).toBe(false);
    expect(v.hardware?.uncommitted).toBe(true);
    expect(v.lineCount).toBe(1);
  });
});
