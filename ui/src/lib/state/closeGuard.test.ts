import { describe, expect, it, vi } from "vitest";
import { CloseGuard } from "./closeGuard.svelte";
import type { JobRecord } from "../bindings";

const job = { id: 3, kind: "install", hosts: ["box"], result: "running" } as JobRecord;

describe("CloseGuard", () => {
  it("asks when the backend holds a close, and staying dismisses the question", async () => {
    let handler: ((jobs: JobRecord[]) => void) | null = null;
    const closeApp = vi.fn(async () => {});
    const guard = new CloseGuard({
      onCloseRequested: async (h) => {
        handler = h;
        return () => {};
      },
      closeApp,
    });
    await guard.listen();
    expect(guard.asking).toBe(false);
    handler!([job]);
    expect(guard.asking).toBe(true);
    guard.stay();
    expect(guard.asking).toBe(false);
    expect(closeApp).not.toHaveBeenCalled();
  });

  it("sends the answer and keeps a refusal as an error", async () => {
    const closeApp = vi.fn(async () => {
      throw { code: "conflict", message: "job 3 holds secrets", hint: "Cancel the job, or stay until it ends." };
    });
    const guard = new CloseGuard({ onCloseRequested: async () => () => {}, closeApp });
    await guard.answer("leave");
    expect(closeApp).toHaveBeenCalledWith("leave");
    expect(guard.error?.message).toContain("secrets");
    expect(guard.busy).toBeNull();
  });
});
