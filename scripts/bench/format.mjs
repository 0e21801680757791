// Number formatting and an aligned Markdown table renderer (the same text
// is printed and written to BENCHMARKS.md).

export const int = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "—");

export const fixed = (x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : "—");

/** A measure with significant digits that suit its size. */
export function num(x) {
  if (!Number.isFinite(x)) return "—";
  const abs = Math.abs(x);
  if (abs >= 1000) return int(x);
  if (abs >= 100) return x.toFixed(0);
  if (abs >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** "median (min–max)" of a summary, or "—". */
export function spread(s, format = num) {
  if (!s) return "—";
  if (s.min === s.max) return format(s.median);
  return `${format(s.median)} (${format(s.min)}–${format(s.max)})`;
}

export const ratio = (s) => spread(s, (x) => `${fixed(x)}x`);

/** An aligned Markdown table. */
export function table(headers, rows, align = []) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const cell = (text, i) =>
    align[i] === "r" ? String(text).padStart(widths[i]) : String(text).padEnd(widths[i]);
  const line = (cells) => `| ${cells.map(cell).join(" | ")} |`;
  const rule = `|${
    widths.map((w, i) => (align[i] === "r" ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")
  }|`;
  return [line(headers), rule, ...rows.map(line)].join("\n");
}
