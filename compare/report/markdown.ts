/**
 * The Markdown report, short enough for a CI job summary: verdict per comparison, then what differs and
 * why, and (folded away) the listed differences' timelines in text, one line per instant.
 */
import { DIFFERENCE_CATEGORIES, type DifferenceCategory } from '../../src/differences.ts';
import type { ComparisonResult, Report } from '../types.ts';
import { timelineText } from './timeline.ts';

const cell = (value: unknown): string => (value === null || value === undefined ? '∅' : String(value)).replaceAll('|', '\\|').replaceAll('\n', ' ');
const keyText = (key: Record<string, unknown>): string => Object.values(key).map(cell).join(' / ');

/**
 * parity; differences that every one have an explanation (what `dualrun demo` calls success, so its
 * report must not read "parity violated" beside a console that says all is explained); or violated.
 */
export type Verdict = 'parity' | 'explained' | 'violated';

export function verdictOf(c: ComparisonResult): Verdict {
  if (c.parity) return 'parity';
  const misshapen = c.schema.onlyLeft.length + c.schema.onlyRight.length > 0 || c.findings.nullKeys.leftRows + c.findings.nullKeys.rightRows > 0;
  return !misshapen && (c.explained.unexplained ?? 0) === 0 ? 'explained' : 'violated';
}

export function reportVerdict(report: Report): Verdict {
  const verdicts = report.comparisons.map(verdictOf);
  return verdicts.includes('violated') ? 'violated' : verdicts.includes('explained') ? 'explained' : 'parity';
}

const ICONS: Record<Verdict, string> = { parity: '✅', explained: '⚠️', violated: '❌' };
const HEADLINES: Record<Verdict, string> = { parity: '✅ parity', explained: '⚠️ differences, every one explained by a known batch-vs-streaming semantic', violated: '❌ parity violated' };

export function parityPercent(comparison: ComparisonResult): string {
  const { counts } = comparison;
  const total = counts.match + counts.withinTolerance + counts.mismatch + counts.onlyLeft + counts.onlyRight;
  return total === 0 ? '—' : `${(((counts.match + counts.withinTolerance) / total) * 100).toFixed(2)} %`;
}

function section(c: ComparisonResult): string {
  const lines = [`### ${ICONS[verdictOf(c)]} ${c.name}`, '', `\`${c.left.source}\` (${c.left.rows} rows) vs \`${c.right.source}\` (${c.right.rows} rows), key ${c.key.join(', ')}`, ''];
  const n = c.counts;
  lines.push('| match | within tolerance | mismatch | only left | only right | not yet comparable |', '| ---: | ---: | ---: | ---: | ---: | ---: |');
  lines.push(`| ${n.match} | ${n.withinTolerance} | ${n.mismatch} | ${n.onlyLeft} | ${n.onlyRight} | ${c.notYetComparable.left + c.notYetComparable.right} |`, '');
  const findings = c.findings;
  if (findings.duplicateKeys.left + findings.duplicateKeys.right > 0) lines.push(`- duplicate keys: ${findings.duplicateKeys.left} left, ${findings.duplicateKeys.right} right (matched by multiplicity)`);
  if (findings.nullKeys.leftRows + findings.nullKeys.rightRows > 0) lines.push(`- rows with a NULL key: ${findings.nullKeys.leftRows} left, ${findings.nullKeys.rightRows} right (not compared)`);
  const notRun = c.notRunByBatch;
  if (notRun.left + notRun.right > 0) lines.push(`- not run by batch: ${notRun.left} left, ${notRun.right} right rows of ${notRun.dates.length} date(s) the batch never ran (${dateList(notRun.dates)}; not compared)`);
  if (c.schema.onlyLeft.length > 0) lines.push(`- columns only left: ${c.schema.onlyLeft.join(', ')}`);
  if (c.schema.onlyRight.length > 0) lines.push(`- columns only right: ${c.schema.onlyRight.join(', ')}`);
  for (const change of c.schema.typeChanges) lines.push(`- type change: ${change.column} ${change.left} → ${change.right}`);
  const differing = Object.entries(c.columns).filter(([, stats]) => stats.mismatches + stats.withinTolerance > 0);
  if (differing.length > 0) {
    lines.push('', '| column | mismatches | within tolerance | max abs diff |', '| --- | ---: | ---: | ---: |');
    for (const [name, stats] of differing) lines.push(`| ${name} | ${stats.mismatches} | ${stats.withinTolerance} | ${stats.maxAbsDiff ?? '—'} |`);
  }
  const explained = Object.entries(c.explained) as [DifferenceCategory, number][];
  if (explained.length > 0) {
    lines.push('', '| explanation | differences | meaning |', '| --- | ---: | --- |');
    for (const [category, count] of explained.sort((a, b) => b[1] - a[1])) lines.push(`| ${category === 'unexplained' ? '**unexplained**' : category} | ${count} | ${DIFFERENCE_CATEGORIES[category]} |`);
  }
  const listed = c.differences.filter((difference) => difference.category !== 'withinTolerance').slice(0, 10);
  if (listed.length > 0) {
    lines.push('', '| key | difference | columns | explanation | events |', '| --- | --- | --- | --- | --- |');
    for (const d of listed) lines.push(`| ${keyText(d.key)} | ${d.category} | ${d.columns.join(', ')} | ${d.explanation} | ${d.events.slice(0, 5).join(', ')} |`);
    const told = listed.map((d) => ({ d, text: d.timeline ? timelineText(d.timeline) : [] })).filter(({ text }) => text.length > 0);
    if (told.length > 0) {
      lines.push('', `<details><summary>In time: ${told.length === 1 ? 'the difference' : `the ${told.length} differences`} above, one line per instant (UTC)</summary>`);
      for (const { d, text } of told) lines.push('', `**${keyText(d.key)}** — ${d.explanation}`, '', '```text', ...text, '```');
      // A blank line after the block, or Markdown would read the next heading as part of it.
      lines.push('', '</details>', '');
    }
  }
  return lines.join('\n');
}

export function renderMarkdown(report: Report): string {
  const head = [`## dualrun parity: ${HEADLINES[reportVerdict(report)]}`, '', '| comparison | parity | match rate | mismatch | only left | only right | unexplained |', '| --- | --- | ---: | ---: | ---: | ---: | ---: |'];
  for (const c of report.comparisons) head.push(`| ${c.name} | ${ICONS[verdictOf(c)]} | ${parityPercent(c)} | ${c.counts.mismatch} | ${c.counts.onlyLeft} | ${c.counts.onlyRight} | ${c.explained.unexplained ?? 0} |`);
  return [...head, '', ...report.comparisons.map(section), '', `_report schema ${report.schemaVersion}, generated ${report.generatedAt}_`, ''].join('\n');
}

/** Dates for a line of text: all of a few, else the first and last and how many. */
export function dateList(dates: readonly string[]): string {
  return dates.length <= 4 ? dates.join(', ') : `${dates[0]} … ${dates.at(-1)}, ${dates.length} dates`;
}
