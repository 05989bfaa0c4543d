import { describe, expect, it } from "vitest";
import { formatBytes, splitCode } from "./format";

describe("formatBytes", () => {
  it("uses binary units and trims trailing zeros", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(512 * 1024 ** 2)).toBe("512 MiB");
    expect(formatBytes(1.5 * 1024 ** 3)).toBe("1.5 GiB");
    expect(formatBytes(8 * 1024 ** 3)).toBe("8 GiB");
    expect(formatBytes(1000204886016)).toBe("932 GiB");
    expect(formatBytes(100 * 1024 ** 3)).toBe("100 GiB");
    expect(formatBytes(10 * 1024 ** 4)).toBe("10 TiB");
  });
});

describe("splitCode", () => {
  it("marks backtick spans as code", () => {
    expect(splitCode("run `ssh-add` now")).toEqual([
      { text: "run ", code: false },
      { text: "ssh-add", code: true },
      { text: " now", code: false },
    ]);
  });
  it("keeps an unmatched backtick as text", () => {
    expect(splitCode("a `b")).toEqual([
      { text: "a ", code: false },
      { text: "`b", code: false },
    ]);
  });
});
