// A job's log as the log view pages it from disk: how many lines it has, a
// small cache of the lines around what is in sight, and search by the backend.
// The window never holds a whole log: the cache is at most MAX_PAGES pages,
// whatever the log's length, so memory is the same at 1k and at 10M lines.
// Lines come from `log_lines` (by number) and from live events; both carry
// the backend's styled spans, so there is no ANSI parser here.
import type { Commands } from "../ipc/commands";
import { toIpcError } from "../ipc/errors";
import type { ApiError, SpanStyle, StyledLine } from "../bindings";

/** Lines per page: what one request asks for. */
export const PAGE = 256;
/** Pages kept at most (10,240 lines): a few screens around the view. */
export const MAX_PAGES = 40;
/** Lines fetched beyond each edge of the view. */
export const MARGIN = 100;
/** Pages asked for in one request at most (the backend answers 10,000 lines at most). */
const MAX_GROUP = 8;
/** A failed page is asked for again after this long. */
const RETRY_MS = 2000;
/** Height of one row of the log view, in px. */
export const ROW = 18;
/**
 * The tallest scroll space the view makes, in px. WebKit lays out element
 * sizes up to about 2^25 px; a longer log maps the scroll position onto its
 * lines proportionally instead of one row per 18 px.
 */
export const MAX_SPACE_PX = 8_000_000;

/** The log view draws at most this often while lines come at a readable rate. */
export const DRAW_MS = 100;
/** ... and this often while a flood goes on: nobody reads 2,000 lines a second, and every draw costs a composite (see `drawPace`). */
export const FLOOD_DRAW_MS = 500;
/** Lines a second above which output is a flood. */
export const FLOOD_LINES_PER_SEC = 2000;

/**
 * How long the log view waits between two draws, from how many lines came
 * since the last one (`grew`) in `elapsedMs`, and how many draws in a row
 * have seen a flood before (`streak`). Every draw of a scrolled view costs
 * WebKit a composite of the window (tens of ms of a core without a GPU), so a
 * sustained flood is drawn twice a second; one jump (a finished
 * log opened at its end) is not a flood, and the next draw comes as soon as usual.
 */
export function drawPace(grew: number, elapsedMs: number, streak: number): { waitMs: number; streak: number } {
  const flooding = grew * 1000 > FLOOD_LINES_PER_SEC * Math.max(elapsedMs, 1);
  const next = flooding ? streak + 1 : 0;
  return { waitMs: next >= 2 ? FLOOD_DRAW_MS : DRAW_MS, streak: next };
}

/** A run of text in one style, as the log view draws it. */
export interface Span {
  text: string;
  /** CSS classes: `fg-<0..15>`, `bold`, `dim`. Empty for plain text. */
  cls: string;
}

/** A line the backend styled: its text without escapes, and its spans. */
interface Styled {
  text: string;
  spans: Span[];
}

type Line = string | Styled;

/** The classes of a style the log view knows (16 colours, bold, dim). */
function classes(style: SpanStyle): string {
  const out: string[] = [];
  if (style.fg?.kind === "indexed" && style.fg.index < 16) out.push(`fg-${style.fg.index}`);
  if (style.bold) out.push("bold");
  if (style.dim) out.push("dim");
  return out.join(" ");
}

/** Lines from the backend (numbered from `firstSeq`) as the view keeps them. */
export function toLines(firstSeq: number, lines: string[], styled: StyledLine[] = []): Line[] {
  if (!styled.length) return lines;
  const bySeq = new Map(styled.map((l) => [l.seq, l]));
  return lines.map((text, i) => {
    const s = bySeq.get(firstSeq + i);
    return s
      ? { text: s.spans.map((sp) => sp.text).join(""), spans: s.spans.map((sp) => ({ text: sp.text, cls: classes(sp.style) })) }
      : text;
  });
}

/** Height of the scroll space for `total` lines. */
export function spaceHeight(total: number): number {
  return Math.min(total * ROW, MAX_SPACE_PX);
}

/** The (fractional) line at the top of a view `viewport` px high scrolled to `scrollTop`. */
export function topLine(scrollTop: number, viewport: number, total: number): number {
  if (total * ROW <= MAX_SPACE_PX) return scrollTop / ROW;
  const maxScroll = MAX_SPACE_PX - viewport;
  const maxTop = total - viewport / ROW;
  return maxScroll > 0 ? Math.min(1, Math.max(0, scrollTop / maxScroll)) * maxTop : 0;
}

/** The scroll position that puts line `line` at the top of the view (inverse of `topLine`). */
export function scrollTopFor(line: number, viewport: number, total: number): number {
  if (total * ROW <= MAX_SPACE_PX) return Math.max(0, line * ROW);
  const maxScroll = MAX_SPACE_PX - viewport;
  const maxTop = total - viewport / ROW;
  return maxTop > 0 ? Math.min(1, Math.max(0, line / maxTop)) * maxScroll : 0;
}

export type LogCommands = Pick<Commands, "logLines" | "logSearch">;

interface Page {
  lines: (Line | undefined)[];
  filled: number;
}

/** One job's log, paged (see the module comment). */
export class LogPager {
  /** Lines the log has, as far as this window knows. */
  total = $state(0);
  /** Bumped whenever cached lines change: the view redraws. */
  version = $state(0);
  error = $state.raw<ApiError | null>(null);
  /** The line the last search found, `null` when none (or no search yet). */
  match = $state<number | null>(null);
  /** The last search found nothing, in either direction. */
  noMatch = $state(false);
  searching = $state(false);

  private pages = new Map<number, Page>();
  private inflight = new Set<number>();
  private retryAt = new Map<number, number>();
  /** Pages the view wants now (first, last included); they are never evicted. */
  private wantLo = 0;
  private wantHi = -1;

  constructor(
    private readonly commands: LogCommands,
    readonly id: string,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Pages held now (for tests and the memory bound). */
  get cachedPages(): number {
    return this.pages.size;
  }

  /** The log has at least `total` lines. */
  grow(total: number): void {
    if (total > this.total) this.total = total;
  }

  /**
   * Lines that arrived live. Only the end of a big batch is kept (a view
   * following the output shows the end; the rest is paged in if scrolled to).
   */
  addLive(firstSeq: number, lines: string[], styled: StyledLine[] = []): void {
    this.grow(firstSeq + lines.length);
    const skip = Math.max(0, lines.length - 2 * PAGE);
    const kept = skip ? lines.slice(skip) : lines;
    this.store(firstSeq + skip, toLines(firstSeq + skip, kept, skip ? styled.filter((s) => s.seq >= firstSeq + skip) : styled));
    this.evict();
    this.version++;
  }

  private store(firstSeq: number, lines: Line[]): void {
    for (let i = 0; i < lines.length; i++) {
      const seq = firstSeq + i;
      const p = Math.floor(seq / PAGE);
      let page = this.pages.get(p);
      if (!page) {
        page = { lines: new Array(PAGE), filled: 0 };
        this.pages.set(p, page);
      }
      const at = seq % PAGE;
      if (page.lines[at] === undefined) page.filled++;
      page.lines[at] = lines[i];
    }
  }

  /** Drops the least recently used pages outside the wanted range past MAX_PAGES. */
  private evict(): void {
    if (this.pages.size <= MAX_PAGES) return;
    for (const p of this.pages.keys()) {
      if (this.pages.size <= MAX_PAGES) break;
      if (p < this.wantLo || p > this.wantHi) this.pages.delete(p);
    }
  }

  private touch(p: number): Page | undefined {
    const page = this.pages.get(p);
    if (page) {
      // Map order is use order: the first keys are the least recently used.
      this.pages.delete(p);
      this.pages.set(p, page);
    }
    return page;
  }

  /** Whether page `p` holds every line of `lo .. hi` that it covers. */
  private holds(p: number, lo: number, hi: number): boolean {
    const page = this.pages.get(p);
    if (!page) return false;
    if (page.filled >= Math.min(PAGE, this.total - p * PAGE)) return true;
    const from = Math.max(lo, p * PAGE);
    const to = Math.min(hi, (p + 1) * PAGE, this.total);
    for (let seq = from; seq < to; seq++) if (page.lines[seq % PAGE] === undefined) return false;
    return true;
  }

  /** The line `seq` if it is cached. */
  private line(seq: number): Line | undefined {
    return this.pages.get(Math.floor(seq / PAGE))?.lines[seq % PAGE];
  }

  /** Line `seq` as spans to draw, or `null` while it is being fetched. */
  spansAt(seq: number): Span[] | null {
    const l = this.line(seq);
    if (l === undefined) return null;
    return typeof l === "string" ? [{ text: l, cls: "" }] : l.spans;
  }

  /** Line `seq`'s text without escapes, or `null` while it is not cached. */
  textAt(seq: number): string | null {
    const l = this.line(seq);
    if (l === undefined) return null;
    return typeof l === "string" ? l : l.text;
  }

  /**
   * The view shows lines `first .. last` (excluded): fetches what of them and
   * `margin` lines around them is not cached, in few requests, once each. A
   * view following live output passes no margin: the live tail covers it, and
   * a fast stream would otherwise ask for the lines above it at every flush.
   */
  ensure(first: number, last: number, margin = MARGIN): void {
    if (this.total === 0) return;
    const fromLine = Math.max(0, first - margin);
    const toLine = Math.min(this.total, last + margin);
    const lo = Math.floor(fromLine / PAGE);
    const hi = Math.floor((toLine - 1) / PAGE);
    this.wantLo = lo;
    this.wantHi = hi;
    for (let p = lo; p <= hi; p++) this.touch(p);
    const now = this.now();
    let run: number[] = [];
    const flush = () => {
      if (run.length) void this.fetch(run);
      run = [];
    };
    for (let p = lo; p <= hi; p++) {
      const skip = this.holds(p, fromLine, toLine) || this.inflight.has(p) || (this.retryAt.get(p) ?? 0) > now;
      if (skip) {
        flush();
        continue;
      }
      run.push(p);
      if (run.length === MAX_GROUP) flush();
    }
    flush();
  }

  private async fetch(pages: number[]): Promise<void> {
    for (const p of pages) this.inflight.add(p);
    const from = pages[0] * PAGE;
    try {
      const got = await this.commands.logLines(this.id, from, pages.length * PAGE);
      this.grow(got.total_lines);
      this.store(got.first_seq, toLines(got.first_seq, got.lines, got.styled));
      for (const p of pages) this.retryAt.delete(p);
      this.error = null;
    } catch (err) {
      this.error = toIpcError(err);
      for (const p of pages) this.retryAt.set(p, this.now() + RETRY_MS);
    } finally {
      for (const p of pages) this.inflight.delete(p);
    }
    this.evict();
    this.version++;
  }

  /**
   * Finds the next line holding `query` after the last match (or from line
   * `from`), towards the end or the start, wrapping around once. Case-blind
   * for ASCII letters. The line found, or `null`.
   */
  async find(query: string, backwards: boolean, from: number): Promise<number | null> {
    if (!query) {
      this.match = null;
      this.noMatch = false;
      return null;
    }
    this.searching = true;
    try {
      const start = this.match !== null ? this.match + (backwards ? -1 : 1) : from;
      const direction = backwards ? "backward" : "forward";
      let line = start >= 0 && start < this.total ? await this.commands.logSearch(this.id, query, start, direction, true) : null;
      if (line === null) {
        // Round the end, as a search box in an editor does.
        const again = backwards ? Math.max(0, this.total - 1) : 0;
        line = await this.commands.logSearch(this.id, query, again, direction, true);
      }
      this.match = line;
      this.noMatch = line === null;
      this.error = null;
      if (line !== null) this.grow(line + 1);
      return line;
    } catch (err) {
      this.error = toIpcError(err);
      return null;
    } finally {
      this.searching = false;
    }
  }

  /** A new query: the next search starts from the view again. */
  resetSearch(): void {
    this.match = null;
    this.noMatch = false;
  }
}
