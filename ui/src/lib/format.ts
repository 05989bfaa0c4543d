/** Bytes in binary units as people read disk and memory sizes ("512 MiB", "1.5 GiB"). */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = value >= 100 || unit === 0 ? 0 : value >= 10 ? 1 : 2;
  const text = digits === 0 ? value.toFixed(0) : value.toFixed(digits).replace(/\.?0+$/, "");
  return `${text} ${units[unit]}`;
}

/** Splits a message at `backticks` into plain and code parts, for display as text. */
export function splitCode(text: string): { text: string; code: boolean }[] {
  const parts: { text: string; code: boolean }[] = [];
  const pieces = text.split("`");
  // An odd number of backticks leaves the last one unmatched: keep it as text.
  const balanced = pieces.length % 2 === 1;
  pieces.forEach((piece, i) => {
    const code = i % 2 === 1 && (balanced || i < pieces.length - 1);
    if (piece === "" && !code) return;
    parts.push({ text: code || balanced || i < pieces.length - 1 ? piece : "`" + piece, code });
  });
  return parts;
}
