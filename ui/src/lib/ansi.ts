// A small SGR parser for log lines: the tools colour their output with ANSI
// escapes (the runner keeps them), the log view draws them as classed spans.
// Only colours and bold are kept; every other escape is dropped.

export interface Span {
  text: string;
  /** CSS classes: `fg-<0..15>`, `bold`, `dim`. Empty for plain text. */
  cls: string;
}

interface Style {
  fg: number | null;
  bold: boolean;
  dim: boolean;
}

const ESC = /\x1b\[([0-9;?]*)([A-Za-z])|\x1b[()][A-Za-z0-9]|\x1b./g;

function apply(style: Style, params: string): void {
  const codes = params === "" ? [0] : params.split(";").map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (c === 0) {
      style.fg = null;
      style.bold = false;
      style.dim = false;
    } else if (c === 1) style.bold = true;
    else if (c === 2) style.dim = true;
    else if (c === 22) {
      style.bold = false;
      style.dim = false;
    } else if (c >= 30 && c <= 37) style.fg = c - 30;
    else if (c >= 90 && c <= 97) style.fg = c - 90 + 8;
    else if (c === 39) style.fg = null;
    else if (c === 38) {
      // 38;5;n or 38;2;r;g;b: map the 16 basic indexes, drop the rest.
      if (codes[i + 1] === 5) {
        const n = codes[i + 2] ?? 0;
        style.fg = n < 16 ? n : null;
        i += 2;
      } else if (codes[i + 1] === 2) i += 4;
    }
  }
}

function classes(style: Style): string {
  const out: string[] = [];
  if (style.fg !== null) out.push(`fg-${style.fg}`);
  if (style.bold) out.push("bold");
  if (style.dim) out.push("dim");
  return out.join(" ");
}

/** Splits one line into styled spans; escapes never reach the text. */
export function parseAnsi(line: string): Span[] {
  if (!line.includes("\x1b")) return [{ text: line, cls: "" }];
  const spans: Span[] = [];
  const style: Style = { fg: null, bold: false, dim: false };
  let last = 0;
  ESC.lastIndex = 0;
  for (let m = ESC.exec(line); m !== null; m = ESC.exec(line)) {
    if (m.index > last) spans.push({ text: line.slice(last, m.index), cls: classes(style) });
    if (m[2] === "m") apply(style, m[1]);
    last = ESC.lastIndex;
  }
  if (last < line.length) spans.push({ text: line.slice(last), cls: classes(style) });
  return spans.filter((s) => s.text.length > 0);
}

/** The line without escapes (search and copy work on this). */
export function stripAnsi(line: string): string {
  return line.includes("\x1b") ? line.replace(ESC, "") : line;
}
