/**
 * `dualrun status`: the migration board — every transformation's stage, its last gate verdict, its
 * streak of passing runs, the trend, and the next step — from the manifest and the gate history;
 * with --html, also a page with each transformation's nights drawn (match rate, differences per category).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { ManifestEntry } from '../config-file.ts';
import { ExitCode, UsageError } from '../errors.ts';
import type { CommandContext } from './command.ts';
import { manifestOf } from './check.ts';
import { formatTable } from './summary.ts';
import type { GateHistoryRow } from '../../compare/gate-history.ts';
import { streakNeeds } from '../streak.ts';

export const help = `dualrun status — the migration board

Usage: dualrun status [--config FILE] [--history FILE] [--limit N] [--json] [--html FILE]

One line per transformation of the manifest (dualrun.config.ts, or --config): its stage, the last verdict of
dualrun check, its streak of passing nights (checks of later nights), the trend of the last --limit runs (default 10; ✓ pass, ✗ fail,
oldest first) and the next step (e.g. "ready for cutover" once the streak reaches promoteAfter).
--history defaults to <report.out>/history.duckdb, where dualrun check records its verdicts.
--html FILE also writes the board as a self-contained page, with a chart per transformation of its last
--limit nights: the match rate, and the differences per category.`;

const options = {
  history: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
  html: { type: 'string' },
} as const;

export interface BoardRow {
  transform: string;
  stage: ManifestEntry['stage'];
  lastRun: string | null;
  lastVerdict: 'pass' | 'fail' | null;
  streak: number;
  trend: string;
  next: string;
}

export function nextStep(entry: ManifestEntry, history: readonly GateHistoryRow[]): string {
  const last = history.at(-1);
  const streak = last?.streak ?? 0;
  switch (entry.stage) {
    case 'legacy':
      return 'run the streaming job beside the batch job, then move to shadow';
    case 'retired':
      return '—';
    case 'shadow':
      if (!last) return 'run dualrun check';
      if (!last.parity_passed) return 'fix the differences the last check reported';
      return streak >= entry.promoteAfter ? 'ready for cutover' : `${entry.promoteAfter - streak} more passing night(s) before cutover; ${streakNeeds(last.streak_night)}`;
    case 'cutover':
      if (!last) return 'run dualrun check';
      if (last.passed) return 'cut over: retire the batch job when ready';
      // At parity and failing only for the streak: nothing to fix, nights to wait for.
      if (last.parity_passed && streak < entry.promoteAfter) return `at parity; ${entry.promoteAfter - streak} more passing night(s) before the gate passes; ${streakNeeds(last.streak_night)}`;
      return 'FAILING: fix before trusting the stream';
  }
}

export async function run(ctx: CommandContext): Promise<number> {
  const { values, positionals } = ctx.parse(options);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, { hint: 'see dualrun status --help' });
  const limit = values.limit === undefined ? 10 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit ${JSON.stringify(values.limit)} is not a positive whole number`);
  const { config } = ctx;
  const manifest = manifestOf(config, ctx.project.transforms);
  const historyPath = resolve(values.history ?? join(config.report.out, 'history.duckdb'));
  const { readGateHistory } = await import('../../compare/gate-history.ts');
  if (values.history !== undefined) {
    const { requireHistoryFile } = await import('../../compare/history.ts');
    requireHistoryFile(values.history);
  }
  const history = await readGateHistory(historyPath, limit);

  const board: BoardRow[] = manifest.map(([name, entry]) => {
    const runs = history.filter((row) => row.transform === name);
    const last = runs.at(-1);
    return {
      transform: name,
      stage: entry.stage,
      lastRun: last?.run_at ?? null,
      lastVerdict: last ? (last.passed ? 'pass' : 'fail') : null,
      streak: last?.streak ?? 0,
      trend: runs.map((row) => (row.passed ? '✓' : '✗')).join(''),
      next: nextStep(entry, runs),
    };
  });
  const page = values.html === undefined ? undefined : resolve(values.html);
  if (page !== undefined) {
    const { readNights } = await import('../../compare/nights.ts');
    const { renderStatusHtml } = await import('../../compare/report/status-html.ts');
    const nights = await readNights(historyPath, limit);
    await mkdir(dirname(page), { recursive: true });
    await writeFile(page, renderStatusHtml({ board, nights, history: historyPath, generatedAt: new Date().toISOString() }));
  }
  if (values.json) {
    ctx.out(JSON.stringify({ history: historyPath, board, ...(page ? { html: page } : {}) }, null, 2));
    return ExitCode.ok;
  }
  const header = ['transformation', 'stage', 'last run', 'verdict', 'streak', 'trend', 'next step'];
  const rows = board.map((row) => [row.transform, row.stage, row.lastRun ?? 'never', row.lastVerdict ?? '—', String(row.streak), row.trend || '—', row.next]);
  ctx.out(formatTable(header, rows));
  ctx.out(`\nhistory: ${historyPath}`);
  if (page) ctx.out(`board: ${page}`);
  return ExitCode.ok;
}
