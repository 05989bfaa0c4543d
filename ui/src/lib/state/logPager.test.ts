import { describe, expect, it } from "vitest";
import { DRAW_MS, FLOOD_DRAW_MS, LogPager, MAX_PAGES, drawPace, MAX_SPACE_PX, PAGE, ROW, scrollTopFor, spaceHeight, topLine, type LogCommands } from "./logPager.svelte";
import type { LogLines, LogSearchDirection } from "../bindings";

const settle = () => new Promise((r) => setTimeout(r, 0));

/** A backend with a log of `total` lines "line <n>" (computed, never stored), recording the requests. */
function backend(total: number, opts: { fail?: boolean; hits?: number[] } = {}) {
  const requests: [number, number][] = [];
  const searches: [string, number, LogSearchDirection][] = [];
  const state = { total, fail: opts.fail ?? false };
  const hits = opts.hits ?? [];
  const commands: LogCommands = {
    logLines: async (_id: string, from: number, count: number): Promise<LogLines> => {
      requests.push([from, count]);
      if (state.fail) throw { code: "internal", message: "the log is gone", hint: null };
      const n = Math.max(0, Math.min(count, 10_000, state.total - from));
      return { first_seq: from, lines: Array.from({ length: n }, (_, i) => `line ${from + i}`), total_lines: state.total };
    },
    logSearch: async (_id: string, query: string, from: number, direction: LogSearchDirection): Promise<number | null> => {
      searches.push([query, from, direction]);
      const found = direction === "forward" ? hits.filter((h) => h >= from) : hits.filter((h) => h <= from).reverse();
      return found[0] ?? null;
    },
  };
  return { commands, requests, searches, state };
}

describe("LogPager paging", () => {
  it("fetches the lines in sight and a margin in one request, once", async () => {
    const b = backend(1_000_000);
    const p = new LogPager(b.commands, "1");
    p.grow(1_000_000);
    p.ensure(500_000, 500_030);
    p.ensure(500_000, 500_030); // asked again before the answer: no second request
    expect(b.requests).toHaveLength(1);
    const [from, count] = b.requests[0];
    expect(from).toBeLessThanOrEqual(500_000 - 100);
    expect(from + count).toBeGreaterThanOrEqual(500_030 + 100);
    expect(from % PAGE).toBe(0);
    expect(p.textAt(500_010)).toBeNull();
    const v = p.version;
    await settle();
    expect(p.version).toBeGreaterThan(v);
    expect(p.textAt(500_010)).toBe("line 500010");
    expect(p.spansAt(500_010)).toEqual([{ text: "line 500010", cls: "" }]);
    p.ensure(500_005, 500_035);
    expect(b.requests).toHaveLength(1);
  });

  it("keeps memory flat: scrolling through 10 million lines holds at most MAX_PAGES pages", async () => {
    const total = 10_000_000;
    const b = backend(total);
    const p = new LogPager(b.commands, "1");
    p.grow(total);
    for (let top = 0; top < total; top += 97_531) {
      p.ensure(top, top + 40);
      await settle();
      expect(p.textAt(top)).toBe(`line ${top}`);
      expect(p.cachedPages).toBeLessThanOrEqual(MAX_PAGES);
    }
    expect(b.requests.length).toBeGreaterThan(100);
  });

  it("does not fetch past the end of the log", async () => {
    const b = backend(300);
    const p = new LogPager(b.commands, "1");
    p.grow(300);
    p.ensure(280, 300);
    await settle();
    expect(b.requests.every(([from]) => from < 300)).toBe(true);
    expect(p.textAt(299)).toBe("line 299");
    p.ensure(280, 300);
    expect(b.requests).toHaveLength(1);
  });

  it("learns a longer log from an answer", async () => {
    const b = backend(5_000);
    const p = new LogPager(b.commands, "1");
    p.grow(10);
    p.ensure(0, 10);
    await settle();
    expect(p.total).toBe(5_000);
  });

  it("live lines fill the cache: a view following the end needs no request", async () => {
    const b = backend(0);
    const p = new LogPager(b.commands, "1");
    // A flush of 5,000 lines: only its end is kept.
    p.addLive(0, Array.from({ length: 5_000 }, (_, i) => `live ${i}`));
    expect(p.total).toBe(5_000);
    expect(p.textAt(4_999)).toBe("live 4999");
    expect(p.textAt(0)).toBeNull();
    p.ensure(4_970, 5_000, 0);
    expect(b.requests).toHaveLength(0);
    // Counts without lines (LiveTail dropped them), then the tail.
    p.grow(9_000_000);
    p.addLive(9_000_000, Array.from({ length: 100 }, (_, i) => `tail ${i}`));
    p.ensure(9_000_070, 9_000_100, 0);
    expect(b.requests).toHaveLength(0);
    expect(p.textAt(9_000_099)).toBe("tail 99");
    await settle();
    expect(p.cachedPages).toBeLessThanOrEqual(MAX_PAGES);
  });

  it("a long live stream keeps memory flat", () => {
    const p = new LogPager(backend(0).commands, "1");
    const batch = Array.from({ length: 100 }, (_, i) => `l${i}`);
    for (let seq = 0; seq < 2_000_000; seq += 100) p.addLive(seq, batch);
    expect(p.total).toBe(2_000_000);
    expect(p.cachedPages).toBeLessThanOrEqual(MAX_PAGES);
    expect(p.textAt(1_999_999)).toBe("l99");
  });

  it("a page partly filled by live lines is fetched whole when in sight", async () => {
    const b = backend(1_000);
    const p = new LogPager(b.commands, "1");
    p.addLive(PAGE + 10, ["x"]);
    p.grow(1_000);
    p.ensure(PAGE, PAGE + 20);
    await settle();
    expect(b.requests.length).toBeGreaterThan(0);
    expect(p.textAt(PAGE)).toBe(`line ${PAGE}`);
  });

  it("says why a page could not be read, and asks again only after a pause", async () => {
    const b = backend(1_000, { fail: true });
    let now = 0;
    const p = new LogPager(b.commands, "1", () => now);
    p.grow(1_000);
    p.ensure(0, 20);
    await settle();
    expect(p.error?.message).toBe("the log is gone");
    p.ensure(0, 20);
    expect(b.requests).toHaveLength(1);
    now += 5_000;
    b.state.fail = false;
    p.ensure(0, 20);
    await settle();
    expect(b.requests).toHaveLength(2);
    expect(p.error).toBeNull();
    expect(p.textAt(3)).toBe("line 3");
  });

  it("draws the backend's spans of styled lines", async () => {
    const plain = { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false };
    const commands: LogCommands = {
      logLines: async () => ({
        first_seq: 0,
        lines: ["\x1b[1;31merror:\x1b[0m build failed", "plain"],
        styled: [
          {
            seq: 0,
            spans: [
              { text: "error:", style: { ...plain, fg: { kind: "indexed", index: 1 }, bold: true } },
              { text: " build failed", style: plain },
            ],
          },
        ],
        total_lines: 2,
      }),
      logSearch: async () => null,
    };
    const p = new LogPager(commands, "1");
    p.grow(2);
    p.ensure(0, 2);
    await settle();
    expect(p.spansAt(0)).toEqual([
      { text: "error:", cls: "fg-1 bold" },
      { text: " build failed", cls: "" },
    ]);
    expect(p.textAt(0)).toBe("error: build failed");
    expect(p.spansAt(1)).toEqual([{ text: "plain", cls: "" }]);
  });
});

describe("LogPager search", () => {
  it("finds from the view, then the next and previous match, round the end", async () => {
    const b = backend(1_000, { hits: [10, 500, 900] });
    const p = new LogPager(b.commands, "1");
    p.grow(1_000);
    expect(await p.find("err", false, 400)).toBe(500);
    expect(await p.find("err", false, 400)).toBe(900);
    expect(b.searches.at(-1)).toEqual(["err", 501, "forward"]);
    // Past the last match it starts again at the top.
    expect(await p.find("err", false, 400)).toBe(10);
    expect(await p.find("err", true, 400)).toBe(900);
    expect(await p.find("err", true, 400)).toBe(500);
    p.resetSearch();
    expect(p.match).toBeNull();
    expect(await p.find("err", true, 999)).toBe(900);
  });

  it("says when nothing matches", async () => {
    const b = backend(1_000, { hits: [] });
    const p = new LogPager(b.commands, "1");
    p.grow(1_000);
    expect(await p.find("nothing", false, 0)).toBeNull();
    expect(p.noMatch).toBe(true);
    expect(p.searching).toBe(false);
  });

  it("an empty query clears the match without asking", async () => {
    const b = backend(1_000, { hits: [1] });
    const p = new LogPager(b.commands, "1");
    p.grow(1_000);
    await p.find("x", false, 0);
    expect(await p.find("", false, 0)).toBeNull();
    expect(p.match).toBeNull();
    expect(b.searches).toHaveLength(1);
  });
});

describe("scroll mapping", () => {
  it("is one row per line for short logs", () => {
    expect(spaceHeight(1_000)).toBe(1_000 * ROW);
    expect(topLine(180, 400, 1_000)).toBe(10);
    expect(scrollTopFor(10, 400, 1_000)).toBe(180);
  });

  it("scales a 10-million-line log into a space the webview can lay out, end to end", () => {
    const total = 10_000_000;
    const viewport = 400;
    expect(spaceHeight(total)).toBe(MAX_SPACE_PX);
    expect(topLine(0, viewport, total)).toBe(0);
    const bottom = topLine(MAX_SPACE_PX - viewport, viewport, total);
    // The last line is in sight at the bottom.
    expect(bottom + viewport / ROW).toBeCloseTo(total, 5);
    for (const line of [0, 1_234_567, 5_000_000, 9_999_000]) {
      expect(topLine(scrollTopFor(line, viewport, total), viewport, total)).toBeCloseTo(line, 3);
    }
  });
});

describe("draw pace", () => {
  it("draws a readable log every 100 ms", () => {
    expect(drawPace(30, 100, 0)).toEqual({ waitMs: DRAW_MS, streak: 0 });
  });

  it("slows down only for a flood that goes on", () => {
    // 20,000 lines in 100 ms: a flood, but one draw of it could be a jump.
    let pace = drawPace(20_000, 100, 0);
    expect(pace).toEqual({ waitMs: DRAW_MS, streak: 1 });
    pace = drawPace(20_000, 100, pace.streak);
    expect(pace).toEqual({ waitMs: FLOOD_DRAW_MS, streak: 2 });
    // The flood ends: back to the usual pace at once.
    expect(drawPace(3, 300, pace.streak)).toEqual({ waitMs: DRAW_MS, streak: 0 });
  });

  it("takes a finished log opened at its end as one jump", () => {
    // The count jumps to 10M, then the rows arrive with no new lines.
    const jump = drawPace(10_000_000, 5, 0);
    expect(drawPace(0, 40, jump.streak).waitMs).toBe(DRAW_MS);
  });
});
