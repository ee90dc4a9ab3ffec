/**
 * The one-screen summary people read after a dual run: one line per transformation with its verdict,
 * counts and what explains the differences — the full story is in the reports.
 */
import type { ComparisonResult } from '../../compare/types.ts';

export function summaryTable(results: readonly ComparisonResult[], verdictOf: (result: ComparisonResult) => string = (r) => (r.parity ? 'parity' : 'differs')): string {
  const header = ['transformation', 'verdict', 'match', 'differ', 'not yet', 'explained by'];
  const rows = results.map((result) => {
    const { counts } = result;
    const differ = counts.mismatch + counts.onlyLeft + counts.onlyRight;
    const explained = Object.entries(result.explained)
      .filter(([, count]) => (count ?? 0) > 0)
      .map(([category, count]) => `${category} ${count}`)
      .join(', ');
    const notYet = result.notYetComparable.left + result.notYetComparable.right;
    return [result.name, verdictOf(result), String(counts.match + counts.withinTolerance), String(differ), String(notYet), explained || '—'];
  });
  return formatTable(header, rows);
}

/** Left-aligned columns two spaces apart, widths in code points (so ✓ and — count as one). */
export function formatTable(header: string[], rows: string[][]): string {
  const width = (text: string): number => [...text].length;
  const widths = header.map((title, column) => Math.max(width(title), ...rows.map((row) => width(row[column]!))));
  const line = (cells: string[]) => cells.map((cell, column) => cell + ' '.repeat(Math.max(0, widths[column]! - width(cell)))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function unexplainedCount(results: readonly ComparisonResult[]): number {
  return results.reduce((total, result) => total + (result.explained.unexplained ?? 0), 0);
}
