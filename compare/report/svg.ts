/**
 * What the report's inline SVG pictures share: escaping, text measured in a monospace font (so
 * labels can be kept from overlapping without a browser), and labels stacked in rows where they collide.
 * Every presentation attribute is written on the element, so a picture copied out of the page still reads.
 */

/** Escapes text for HTML and SVG alike; null and undefined read as ∅. */
export const esc = (value: unknown): string =>
  (value === null || value === undefined ? '∅' : typeof value === 'object' ? JSON.stringify(value) : String(value)).replace(/[<>&"']/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[ch]!);

export const FONT = "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace";
/** A monospace glyph is 0.6 em wide. */
export const textWidth = (text: string, size: number): number => [...text].length * size * 0.6;

/** The text cut with "…" to fit `px` at `size`. */
export function fit(text: string, px: number, size: number): string {
  const max = Math.floor(px / (size * 0.6));
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, Math.max(1, max - 1)).join('')}…`;
}

/** Coordinates rounded to a tenth of a pixel, to keep the markup short. */
export const n = (value: number): string => String(Math.round(value * 10) / 10);

export interface PlacedLabel {
  /** The x the label belongs to; the text starts right of it, or ends left of it near the right edge. */
  x: number;
  text: string;
  anchor: 'start' | 'end';
  /** 0 for the top row. */
  row: number;
}

/** Puts each label in the first row where it overlaps no other (inputs in any order; output in input order). */
export function stackLabels(items: readonly { x: number; text: string }[], right: number, size: number, gap = 8): PlacedLabel[] {
  const rows: [number, number][][] = [];
  return items.map((item) => {
    const width = textWidth(item.text, size);
    const anchor = item.x + 3 + width > right ? 'end' : 'start';
    const from = anchor === 'start' ? item.x - 1 : item.x - 3 - width;
    const to = anchor === 'start' ? item.x + 3 + width : item.x + 1;
    let row = rows.findIndex((taken) => taken.every(([a, b]) => to + gap <= a || from >= b + gap));
    if (row === -1) row = rows.push([]) - 1;
    rows[row]!.push([from, to]);
    return { x: item.x, text: item.text, anchor, row };
  });
}

/** Text with a white halo, so it stays legible where it crosses a line. */
export function label(x: number, y: number, text: string, attributes: Record<string, string | number> = {}): string {
  const extra = Object.entries(attributes)
    .map(([name, value]) => ` ${name}="${esc(value)}"`)
    .join('');
  return `<text x="${n(x)}" y="${n(y)}" paint-order="stroke" stroke="#fff" stroke-width="3" stroke-linejoin="round"${extra}>${esc(text)}</text>`;
}
