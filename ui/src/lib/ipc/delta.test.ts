import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { applyDelta } from "./delta";
import type { Delta, JsonValue } from "../bindings";

// Views before and after real edits, with the backend's deltas between them,
// written by the Rust test `delta_cases` (src-tauri/crates/nixdeck-api/tests).
const cases = JSON.parse(
  readFileSync(resolve(__dirname, "../../../../tests/fixtures/delta/views.json"), "utf8"),
) as { name: string; old: JsonValue; new: JsonValue; delta: Delta }[];

describe("applyDelta", () => {
  it("turns each view the backend diffed into the next one, key order included", () => {
    expect(cases.length).toBeGreaterThan(5);
    for (const c of cases) {
      const applied = applyDelta(c.old, c.delta);
      expect(JSON.stringify(applied), c.name).toBe(JSON.stringify(c.new));
    }
  });

  it("keeps every part the delta does not touch", () => {
    const old: { a: { deep: number[] }; b: { [key: string]: number }[]; s: string } = { a: { deep: [1, 2] }, b: [{ x: 1 }, { y: 2 }], s: "text" };
    const next = applyDelta(old, { fields: { changed: [["b", { items: [[1, { set: { y: 3 } }]] }]], removed: [] } }) as unknown as typeof old;
    expect(next).toEqual({ a: { deep: [1, 2] }, b: [{ x: 1 }, { y: 3 }], s: "text" });
    expect(next.a).toBe(old.a);
    expect(next.b[0]).toBe(old.b[0]);
    expect(old.b[1]).toEqual({ y: 2 });
  });

  it("splices arrays and text, and removes fields", () => {
    expect(applyDelta([1, 2, 3, 4], { splice: { start: 1, tail: 1, with: [9] } })).toEqual([1, 9, 4]);
    expect(applyDelta("size = 1G;", { text: { start: 7, tail: 1, with: "20G" } })).toBe("size = 20G;");
    expect(applyDelta({ a: 1, b: 2 }, { fields: { changed: [["c", { set: 3 }]], removed: ["a"] } })).toEqual({ b: 2, c: 3 });
  });

  it("refuses a delta made on another value", () => {
    expect(() => applyDelta([1], { items: [[4, { set: 0 }]] })).toThrow(/does not fit/);
    expect(() => applyDelta("ab", { text: { start: 2, tail: 1, with: "" } })).toThrow(/does not fit/);
    expect(() => applyDelta([1], { fields: { changed: [], removed: [] } })).toThrow(/does not fit/);
    expect(() => applyDelta({}, { splice: { start: 0, tail: 0, with: [] } })).toThrow(/does not fit/);
  });
});
