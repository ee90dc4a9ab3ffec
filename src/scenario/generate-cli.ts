/**
 * `dualrun generate`: writes a synthetic scenario folder (see generate.ts), with progress on stderr.
 * The files go to a hidden sibling folder renamed to --out at the end, so an interrupted run leaves
 * nothing a rerun would refuse: Ctrl-C removes it, and a rerun removes what a kill -9 left.
 */
import { existsSync, readdirSync } from 'node:fs';
import { rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { CommandContext } from '../cli/command.ts';
import { ExitCode, UsageError } from '../errors.ts';
import { progressBar } from '../replay/cli.ts';
import { generateScenario } from './generate.ts';

export const help = `dualrun generate — write a synthetic scenario (same format as fixtures/), deterministic by seed

Usage: dualrun generate --out DIR --orders N --customers M --seed S [options]

  --out DIR             the scenario folder to write (must be empty or absent); written as .DIR.partial beside it
                        and renamed when complete, so an interrupted run leaves nothing a rerun would refuse
  --orders N            orders to place (each with 1-3 lines; about 0.8 payments, 0.6 shipments each)
  --customers M         customers (each starts in a random region and tier)
  --seed S              any text: the same seed and options give byte-identical files
  --late-rate R         share of orders arriving 40 min - 5 h after they were placed (default 0.02)
  --duplicate-rate R    share of events delivered twice (default 0.01)
  --move-rate R         share of orders after which the customer moves region (default 0.01)
  --cancel-rate R       share of orders cancelled; a fifth of those are hard-deleted instead (default 0.05)
  --days D              business days, Europe/Stockholm (default 3)
  --start-date DATE     first business day, YYYY-MM-DD (default 2024-06-03)

Its expected-differences.json is {}: the differences of generated data are not worked out by hand.
Replay it with: dualrun replay --scenario DIR`;

export async function run(ctx: CommandContext): Promise<number> {
  const { values } = ctx.parse({
    out: { type: 'string' },
    orders: { type: 'string' },
    customers: { type: 'string' },
    seed: { type: 'string' },
    'late-rate': { type: 'string' },
    'duplicate-rate': { type: 'string' },
    'move-rate': { type: 'string' },
    'cancel-rate': { type: 'string' },
    days: { type: 'string' },
    'start-date': { type: 'string' },
    json: { type: 'boolean' },
    verbose: { type: 'boolean' },
  });
  for (const flag of ['out', 'orders', 'customers', 'seed'] as const) {
    if (values[flag] === undefined) throw new UsageError(`dualrun generate needs --${flag}`, { hint: 'for example: dualrun generate --out /tmp/big --orders 100000 --customers 5000 --seed 1' });
  }
  const out = values.out!;
  if (existsSync(out) && readdirSync(out).length > 0) throw new UsageError(`--out ${out} is not empty`, { hint: 'choose a new folder, or remove this one first' });
  const count = (flag: string, raw: string | undefined): number | undefined => {
    if (raw === undefined) return undefined;
    if (!/^[1-9]\d*$/.test(raw)) throw new UsageError(`--${flag} expects a whole number of at least 1, got ${JSON.stringify(raw)}`);
    return Number(raw);
  };
  const rate = (flag: string, raw: string | undefined): number | undefined => {
    if (raw === undefined) return undefined;
    if (!/^(0(\.\d+)?|1(\.0+)?)$/.test(raw)) throw new UsageError(`--${flag} expects a share from 0 to 1, like 0.05, got ${JSON.stringify(raw)}`);
    return Number(raw);
  };
  const startDate = values['start-date'];
  if (startDate !== undefined && !isCalendarDate(startDate)) {
    throw new UsageError(`--start-date expects a calendar date written YYYY-MM-DD, like 2024-06-03, got ${JSON.stringify(startDate)}`, { hint: 'give a day that exists in the calendar' });
  }
  const optional = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : ({ [key]: value } as Record<K, V>));
  const options = {
    orders: count('orders', values.orders)!,
    customers: count('customers', values.customers)!,
    seed: values.seed!,
    ...optional('lateRate', rate('late-rate', values['late-rate'])),
    ...optional('duplicateRate', rate('duplicate-rate', values['duplicate-rate'])),
    ...optional('moveRate', rate('move-rate', values['move-rate'])),
    ...optional('cancelRate', rate('cancel-rate', values['cancel-rate'])),
    ...optional('days', count('days', values.days)),
    ...optional('startDate', startDate),
    onProgress: progressBar(ctx, 'orders'),
  };
  const partial = join(dirname(resolve(out)), `.${basename(resolve(out))}.partial`);
  // Ours by its name: what an interrupted run left is started over.
  await rm(partial, { recursive: true, force: true });
  const onSignal = (signal: NodeJS.Signals): void => {
    ctx.progress(`${signal}: stopped; nothing was written to ${out}. Run the same command again to generate it.`);
    void rm(partial, { recursive: true, force: true }).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const started = Date.now();
  let summary: Awaited<ReturnType<typeof generateScenario>>;
  try {
    summary = await generateScenario({ ...options, out: partial });
    // An empty --out folder gives way to the finished one.
    if (existsSync(out)) await rmdir(out);
    await rename(partial, out);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const seconds = (Date.now() - started) / 1000;
  ctx.out(values.json ? JSON.stringify({ out, seconds, ...summary }) : `wrote ${out}: ${summary.events} events (${Object.entries(summary.rows).map(([file, rows]) => `${file} ${rows}`).join(', ')} rows) in ${seconds.toFixed(1)} s`);
  return ExitCode.ok;
}

/** YYYY-MM-DD naming a day that exists (Date.parse rolls 2024-02-30 over to March 1st). */
function isCalendarDate(text: string): boolean {
  const parsed = /^\d{4}-\d\d-\d\d$/.test(text) ? new Date(`${text}T00:00:00Z`) : undefined;
  return parsed !== undefined && !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === text;
}
