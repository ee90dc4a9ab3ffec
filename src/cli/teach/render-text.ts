/**
 * The chapters for people: the terminal report (colour on a TTY, plain otherwise, paragraphs wrapped to
 * the terminal) and the Markdown one for slides or a blog post (each figure as a table and as a bar chart
 * drawn in text). Both only lay out what the chapters measured.
 */
import { formatTable } from '../summary.ts';
import type { Chart, ChapterResult } from './types.ts';

export interface RunInfo {
  /** When the run started (ISO). */
  startedAt: string;
  /** The database server (redacted) or "embedded PGlite", and the brokers. */
  database: string;
  brokers: string;
}

const ansi = { bold: '\u001b[1m', dim: '\u001b[2m', cyan: '\u001b[36m', green: '\u001b[32m', red: '\u001b[31m', yellow: '\u001b[33m', reset: '\u001b[0m' };

/** `text` broken into lines of at most `width` characters (words longer than that stay whole). */
export function wrap(text: string, width: number, indent = ''): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width - indent.length) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}

/** Bars drawn with block characters, the longest `width` wide (log charts on a log scale). */
export function textBars(chart: Chart, width = 30): string[] {
  const lengths = barLengths(chart, width);
  const labelWidth = Math.max(...chart.bars.map((bar) => bar.label.length));
  return chart.bars.map((bar, index) => `${bar.label.padEnd(labelWidth)}  ${'█'.repeat(lengths[index]!)}${lengths[index]! > 0 ? ' ' : ''}${bar.text}`);
}

/** Bar lengths in units of `width`: linear from 0, or log10 from the decade below the smallest positive value. */
export function barLengths(chart: Chart, width: number): number[] {
  const values = chart.bars.map((bar) => Math.max(0, bar.value));
  if (chart.scale === 'log') {
    const positive = values.filter((value) => value > 0);
    if (positive.length === 0) return values.map(() => 0);
    const [low, high] = logRange(positive);
    return values.map((value) => (value > 0 ? Math.max(1, Math.round(((Math.log10(value) - low) / (high - low)) * width)) : 0));
  }
  const max = Math.max(...values);
  return values.map((value) => (max > 0 && value > 0 ? Math.max(1, Math.round((value / max) * width)) : 0));
}

/** The decades a log chart spans: from the one below the smallest value to the one above the largest. */
export function logRange(positive: number[]): [number, number] {
  const low = Math.floor(Math.log10(Math.min(...positive))) - (Number.isInteger(Math.log10(Math.min(...positive))) ? 1 : 0);
  const high = Math.max(low + 1, Math.ceil(Math.log10(Math.max(...positive))));
  return [low, high];
}

export function renderChapterText(result: ChapterResult, { color, width }: { color: boolean; width: number }): string {
  const paint = (code: keyof typeof ansi, text: string): string => (color ? `${ansi[code]}${text}${ansi.reset}` : text);
  const lines: string[] = [];
  lines.push(paint('bold', `Chapter ${result.number} · ${result.title}`) + paint('dim', `  (${result.seconds.toFixed(1)} s)`));
  lines.push(paint('dim', result.question), '');
  for (const step of result.story) {
    const [first, ...rest] = wrap(step, width - 4);
    lines.push(`  • ${first ?? ''}`, ...rest.map((line) => `    ${line}`));
  }
  lines.push('', `  ${paint('cyan', result.figure.caption)}`);
  for (const line of formatTable(result.figure.header, result.figure.rows).split('\n')) lines.push(`  ${line}`);
  lines.push('');
  for (const line of textBars(result.figure.chart, Math.min(30, Math.max(10, width - 60)))) lines.push(`  ${line}`);
  lines.push('');
  const [first, ...rest] = wrap(`Lesson. ${result.lesson}`, width - 2);
  lines.push(`  ${paint('bold', first!.slice(0, 7))}${first!.slice(7)}`, ...rest.map((line) => `  ${line}`));
  lines.push('');
  lines.push(`  ${result.claim.holds ? paint('green', '✓ this run shows it:') : paint('red', '✗ this run does not show it:')} ${result.claim.text}`);
  for (const note of result.notes) for (const line of wrap(`note: ${note}`, width - 2)) lines.push(paint('dim', `  ${line}`));
  return lines.join('\n');
}

const cell = (text: string): string => text.replaceAll('|', '\\|');

export function renderMarkdown(results: readonly ChapterResult[], info: RunInfo): string {
  const out: string[] = [
    '# Teaching the coupling argument, measured',
    '',
    `Why teams move from a nightly batch job on update-in-place tables to events — each figure measured by \`dualrun teach coupling\` on ${info.startedAt.slice(0, 16).replace('T', ' ')} UTC, against ${info.database} and Kafka at ${info.brokers}.`,
    '',
  ];
  for (const result of results) {
    out.push(`## ${result.number}. ${result.title}`, '', `*${result.question}*`, '');
    for (const step of result.story) out.push(`- ${step}`);
    out.push('', `**${result.figure.caption}**`, '');
    out.push(`| ${result.figure.header.map(cell).join(' | ')} |`, `| ${result.figure.header.map(() => '---').join(' | ')} |`);
    for (const row of result.figure.rows) out.push(`| ${row.map(cell).join(' | ')} |`);
    out.push('', '```', `${result.figure.chart.title}`, ...textBars(result.figure.chart), '```', '');
    out.push(`> **Lesson.** ${result.lesson}`, '');
    out.push(`${result.claim.holds ? '✓ This run shows it' : '✗ This run does not show it'}: ${result.claim.text}.`, '');
    for (const note of result.notes) out.push(`<sub>${note}</sub>`, '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
