/**
 * `dualrun batch`: run the legacy transformations for a business date, schedule them nightly, or show
 * the run history. Only the CLI wiring lives here; the work is in runner.ts and scheduler.ts.
 */
import { mkdir } from 'node:fs/promises';
import { legacyDatabaseUrl } from '../src/database-url.ts';
import type { Knex } from 'knex';
import type { CommandContext } from '../src/cli/command.ts';
import { connectKnex, engineOf } from '../src/db.ts';
import { ExitCode, UsageError } from '../src/errors.ts';
import type { Transform } from '../src/transforms/contract.ts';
import { getTransform } from '../src/transforms/index.ts';
import { changesAfter } from '../src/replay/schema.ts';
import { cutoffFor } from '../src/time.ts';
import { listRuns } from './history.ts';
import { parseBusinessDate, runBatch, type RunOutcome } from './runner.ts';
import { ensureHistoryTable } from './tables.ts';

export const help = `dualrun batch — the legacy nightly batch job: each transformation's SQL runs inside the database
and replaces its output table batch_<name> in one transaction (a rerun gives the same output; a failure
or a kill leaves the previous output as it was). Runs are recorded in dualrun_batch_runs and locked per
transformation and date (advisory lock on PostgreSQL, GET_LOCK on MariaDB).

Usage:
  dualrun batch run --date YYYY-MM-DD [--transform NAME]… [--db URL] [--cutoff-time HH:MM] [--before-cutoff] [--json]
  dualrun batch schedule [--cron "0 2 * * *"] [--tz Europe/Stockholm] [--catch-up-days N] [--db URL] [--cutoff-time HH:MM]
  dualrun batch history [--transform NAME] [--date YYYY-MM-DD] [--limit N] [--db URL] [--json]

Options:
  --date           the business date, a calendar day in the domain's time zone (YYYY-MM-DD)
  --transform      run only these (repeatable, or a comma-separated list); default all of the config's
  --db             the legacy database: postgres://…, mysql://…, pglite:/folder or pglite:memory
                   (default DATABASE_URL, else embedded PGlite in <DUALRUN_CACHE_DIR>/pglite)
  --cutoff-time    the run sees the changes that arrived by this local time on the next day (default 02:00)
  --before-cutoff  run a date whose cut-off has not come yet (refused without it: its outputs would hold what
                   has arrived so far, and the whole-table ones would replace the last night's state with it)
  --cron           when the alarm rings (default "0 2 * * *"); every ring runs all due dates missing from history.
                   An hourly ring is added as a safety net: node-cron skips 02:00 on the spring DST night
  --tz             the cron's time zone (default: the domain's)
  --catch-up-days  how many past business dates the scheduler keeps complete (default 3)
  --json           machine-readable output on stdout

Exit codes: 0 done, 1 a run failed or another process holds its lock, 2 bad flags / unknown transformation /
invalid date, 4 database unreachable, 5 a source table or column is missing.
On SIGTERM or SIGINT the scheduler lets the current transformation finish and exits.`;

const dbFlags = { db: { type: 'string' }, json: { type: 'boolean' }, verbose: { type: 'boolean' } } as const;

/** Flags of a subcommand; a stray argument (like a second name after --transform) is an error, never ignored. */
function parseSub<T extends Parameters<CommandContext['parse']>[0]>(ctx: CommandContext, options: T) {
  const parsed = ctx.parse(options);
  const [, ...extra] = parsed.positionals;
  if (extra.length > 0) {
    throw new UsageError(`dualrun batch: unexpected argument "${extra[0]}"`, { hint: 'repeat the flag for each value (--transform a --transform b) or give a comma-separated list; see dualrun batch --help' });
  }
  return parsed;
}

async function openDatabase(ctx: CommandContext, flag: string | undefined): Promise<{ db: Knex; engine: ReturnType<typeof engineOf> }> {
  const url = legacyDatabaseUrl(ctx.env, flag);
  const engine = engineOf(url);
  if (engine === 'pglite' && !/^pglite:(memory)?$/.test(url)) await mkdir(url.slice('pglite:'.length), { recursive: true });
  return { db: await connectKnex(url), engine };
}

function parseCutoffTime(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(value);
  if (!match) throw new UsageError(`--cutoff-time: "${value}" is not a time written HH:MM`, { hint: 'give a local time like 02:00' });
  return value;
}

/** A date whose cut-off is still ahead is not a night yet: its run would see data no nightly run could. */
async function refuseFutureCutoff(businessDate: string, cutoffTime: string | undefined, chosen: readonly Transform[], now = new Date()): Promise<void> {
  for (const transform of chosen) {
    const { timeZone } = transform.time;
    const cutoff = cutoffFor(businessDate, cutoffTime ?? '02:00', timeZone);
    if (cutoff.getTime() <= now.getTime()) continue;
    const { latestDueDate } = await import('./scheduler.ts');
    const latest = latestDueDate(now, timeZone, cutoffTime);
    throw new UsageError(`--date ${businessDate}: its cut-off (${cutoffTime ?? '02:00'} ${timeZone} on the next day, ${cutoff.toISOString()}) has not come yet; the latest date that is due is ${latest}`, {
      hint: `give a date up to ${latest}, or pass --before-cutoff to run it now anyway (its outputs then hold what has arrived so far)`,
    });
  }
}

function describeOutcome(outcome: RunOutcome): string {
  const head = `${outcome.transform.padEnd(24)} ${outcome.businessDate} ${outcome.status}`;
  if (outcome.status === 'succeeded') return `${head}: ${outcome.rowsWritten} rows in ${outcome.seconds.toFixed(2)}s`;
  return 'error' in outcome ? `${head}: ${outcome.error.message}` : head;
}

function outcomeJson(outcome: RunOutcome): Record<string, unknown> {
  if (!('error' in outcome)) return outcome;
  return { transform: outcome.transform, businessDate: outcome.businessDate, status: outcome.status, error: outcome.error.describe(), code: outcome.error.code };
}

async function runCommand(ctx: CommandContext): Promise<number> {
  const { values } = parseSub(ctx, { ...dbFlags, date: { type: 'string' }, transform: { type: 'string', multiple: true }, 'cutoff-time': { type: 'string' }, 'before-cutoff': { type: 'boolean' } });
  if (!values.date) throw new UsageError('dualrun batch run: --date is required', { hint: 'give the business date, like --date 2024-10-27' });
  const businessDate = parseBusinessDate(values.date);
  const available = ctx.project.transforms;
  const chosen = values.transform ? values.transform.flatMap((list) => list.split(',')).map((name) => getTransform(name.trim(), available)) : available;
  const cutoffTime = parseCutoffTime(values['cutoff-time']);
  if (!values['before-cutoff']) await refuseFutureCutoff(businessDate, cutoffTime, chosen);
  const { db, engine } = await openDatabase(ctx, values.db);
  try {
    ctx.progress(`batch ${businessDate}: ${chosen.length} transformation(s) on ${engine}`);
    // Each outcome is told once: a success on stdout (below), the first problem as the error this command
    // ends with, any later problem here as it happens.
    let problemSeen = false;
    const onProgress = (outcome: RunOutcome): void => {
      if (!('error' in outcome)) return;
      if (problemSeen) ctx.progress(describeOutcome(outcome));
      problemSeen = true;
    };
    await warnOfLaterChanges(ctx, db, businessDate, cutoffTime);
    const outcomes = await runBatch({ db, engine, transforms: chosen, businessDate, logger: ctx.logger, ...(cutoffTime ? { cutoffTime } : {}), onStart: (name) => ctx.progress(`${name.padEnd(24)} ${businessDate} running…`), onProgress });
    if (values.json) ctx.out(JSON.stringify(outcomes.map(outcomeJson)));
    else for (const outcome of outcomes) if (outcome.status === 'succeeded') ctx.out(describeOutcome(outcome));
    const firstProblem = outcomes.find((outcome): outcome is Extract<RunOutcome, { error: unknown }> => 'error' in outcome);
    if (firstProblem) throw firstProblem.error;
    return ExitCode.ok;
  } finally {
    await db.destroy();
  }
}

/**
 * A night computed on a database that already holds later changes sees rows as they are now, not as they
 * were at its cut-off (a row changed after 02:00, one inserted since): its differences against the stream
 * are then not the nightly job's. Said, not refused: a real nightly run that starts late is just that.
 */
async function warnOfLaterChanges(ctx: CommandContext, db: Knex, businessDate: string, cutoffTime: string | undefined): Promise<void> {
  const cutoff = cutoffFor(businessDate, cutoffTime ?? '02:00', ctx.project.domain.timeZone);
  const later = await changesAfter(db, ctx.project.domain, cutoff).catch(() => []);
  if (later.length === 0) return;
  const where = later.map(({ table, column, latest }) => `${table}.${column} up to ${latest}`).join(', ');
  ctx.progress(`warning: the legacy tables hold changes after this night's cut-off ${cutoff.toISOString()} (${where}): the run sees them as they are now, not as they were at the cut-off; to compute the night as it was, replay with --until ${cutoff.toISOString()} before running it`);
}

async function scheduleCommand(ctx: CommandContext): Promise<number> {
  const { values } = parseSub(ctx, { ...dbFlags, cron: { type: 'string', default: '0 2 * * *' }, tz: { type: 'string', default: ctx.project.domain.timeZone }, 'catch-up-days': { type: 'string', default: '3' }, 'cutoff-time': { type: 'string' } });
  const { Scheduler, cronTicks } = await import('./scheduler.ts');
  const { default: cron } = await import('node-cron');
  if (!cron.validate(values.cron)) throw new UsageError(`--cron: "${values.cron}" is not a cron expression`, { hint: 'five fields: minute hour day-of-month month day-of-week, like "0 2 * * *"' });
  try {
    new Intl.DateTimeFormat('en', { timeZone: values.tz });
  } catch {
    throw new UsageError(`--tz: "${values.tz}" is not a time zone`, { hint: 'an IANA name like Europe/Stockholm' });
  }
  const catchUpDays = Number(values['catch-up-days']);
  if (!Number.isInteger(catchUpDays) || catchUpDays < 1) throw new UsageError(`--catch-up-days: "${values['catch-up-days']}" is not a whole number of days ≥ 1`);
  const cutoffTime = parseCutoffTime(values['cutoff-time']);
  const { db, engine } = await openDatabase(ctx, values.db);
  const ticks = cronTicks(values.cron, values.tz);
  const scheduler = new Scheduler({
    db, engine, transforms: ctx.project.transforms, logger: ctx.logger, ticks, timeZone: ctx.project.domain.timeZone, catchUpDays,
    ...(cutoffTime ? { cutoffTime } : {}),
    onOutcome: (outcome) => ctx.progress(describeOutcome(outcome)),
    onIdle: () => ctx.progress(describeNextRing(ticks.nextRing?.() ?? null, values.tz)),
  });
  const stopped = new Promise<string>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve(signal));
  });
  try {
    await scheduler.start();
    ctx.progress(`batch scheduler on ${engine}: "${values.cron}" in ${values.tz}, keeping the last ${catchUpDays} business date(s) complete; SIGTERM stops it`);
    ctx.progress(describeNextRing(ticks.nextRing?.() ?? null, values.tz));
    const signal = await stopped;
    ctx.progress(`${signal}: finishing the current run, then exiting`);
    await scheduler.stop();
    return ExitCode.ok;
  } finally {
    await db.destroy();
  }
}

/** "next run at 2026-12-04 02:00 Europe/Stockholm (2026-12-04T01:00:00.000Z)", so a waiting scheduler says when it wakes. */
function describeNextRing(next: Date | null, timeZone: string): string {
  if (!next) return 'no next run: the cron expression rings no more';
  const local = new Intl.DateTimeFormat('sv-SE', { timeZone, dateStyle: 'short', timeStyle: 'short' }).format(next);
  return `next run at ${local} ${timeZone} (${next.toISOString()}): it runs the dates due and missing then`;
}

async function historyCommand(ctx: CommandContext): Promise<number> {
  const { values } = parseSub(ctx, { ...dbFlags, transform: { type: 'string' }, date: { type: 'string' }, limit: { type: 'string', default: '50' } });
  if (values.transform) getTransform(values.transform, ctx.project.transforms);
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit: "${values.limit}" is not a whole number ≥ 1`);
  const { db } = await openDatabase(ctx, values.db);
  try {
    await ensureHistoryTable(db);
    const runs = await listRuns(db, { limit, ...(values.transform ? { transform: values.transform } : {}), ...(values.date ? { businessDate: parseBusinessDate(values.date) } : {}) });
    if (values.json) {
      ctx.out(JSON.stringify(runs));
    } else {
      ctx.out(['id', 'transform', 'date', 'status', 'rows', 'started', 'finished', 'error'].join('\t'));
      for (const run of runs) ctx.out([run.id, run.transform, run.businessDate, run.status, run.rowsWritten ?? '', run.startedAt, run.finishedAt ?? '', (run.error ?? '').split('\n')[0]].join('\t'));
    }
    return ExitCode.ok;
  } finally {
    await db.destroy();
  }
}

const subcommands: Record<string, (ctx: CommandContext) => Promise<number>> = { run: runCommand, schedule: scheduleCommand, history: historyCommand };

export async function run(ctx: CommandContext): Promise<number> {
  const [sub] = ctx.argv;
  const handler = sub === undefined ? undefined : subcommands[sub];
  if (!handler) throw new UsageError(`dualrun batch: ${sub ? `unknown subcommand "${sub}"` : 'missing subcommand'}`, { hint: 'use run, schedule or history (see dualrun batch --help)' });
  return handler({ ...ctx, argv: ctx.argv.slice(1) });
}
