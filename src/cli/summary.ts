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
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function unexplainedCount(results: readonly ComparisonResult[]): number {
  return results.reduce((total, result) => total + (result.explained.unexplained ?? 0), 0);
}
