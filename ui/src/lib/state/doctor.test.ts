import { describe, expect, it } from "vitest";
import { DoctorState } from "./doctor.svelte";
import type { DoctorReport } from "../bindings";

const report: DoctorReport = {
  checks: [
    { id: "nix", label: "Nix", status: "ok", detail: "nix (Nix) 2.8.0", fix: null },
    { id: "flakes", label: "Flakes", status: "warning", detail: "not enabled", fix: "enable them" },
    { id: "git", label: "Git", status: "missing", detail: "not found", fix: "install git" },
  ],
  system: { os: "Debian 12", arch: "x86_64", memory_bytes: 8 << 30, cpus: 2 },
};

describe("DoctorState", () => {
  it("loads the report and counts what needs attention", async () => {
    const state = new DoctorState({ doctorReport: async () => report });
    const pending = state.load();
    expect(state.loading).toBe(true);
    await pending;
    expect(state.loading).toBe(false);
    expect(state.report?.checks).toHaveLength(3);
    expect(state.problems).toBe(2);
  });

  it("keeps a backend failure as an error in words", async () => {
    const state = new DoctorState({
      doctorReport: async () => {
        throw { code: "internal", message: "boom", hint: "try again" };
      },
    });
    await state.load();
    expect(state.report).toBeNull();
    expect(state.error).toEqual({ code: "internal", message: "boom", hint: "try again" });
  });

  it("turns a non-IPC rejection into an error too", async () => {
    const state = new DoctorState({
      doctorReport: async () => {
        throw new Error("bridge gone");
      },
    });
    await state.load();
    expect(state.error?.message).toBe("bridge gone");
    expect(state.error?.code).toBe("internal");
  });
});
