/**
 * `dualrun compare`: two sources, or transformations' batch tables against their output topics,
 * compared in DuckDB; reports written to --out; the summary appended to the history file.
 * Exit 0 parity, 1 parity violated, 2 bad usage or input. `dualrun compare history` shows the trend.
 */
import { existsSync } from 'node:fs';
import type { Knex } from 'knex';
import type { CommandContext } from '../src/cli/command.ts';
import { ExitCode, UsageError } from '../src/errors.ts';
import { legacyDatabaseUrl, ownDatabaseUrl } from '../src/database-url.ts';
import type { ColumnRule } from '../src/transforms/contract.ts';
import type { ComparisonResult } from './index.ts';
import { REPORT_FORMATS, type ReportFormat } from './report/formats.ts';
import { getTransform } from '../src/transforms/index.ts';

// DuckDB, knex and the comparator load when the command runs, not for `dualrun compare --help`.
const comparator = () => import('./index.ts');

export const help = `dualrun compare — compare two outputs by key in DuckDB and explain every difference

Usage:
  dualrun compare --left SPEC --right SPEC --key COL[,COL…] [options]
  dualrun compare --transform NAME [--transform NAME…] [--db URL] [--brokers HOST:PORT] [--topic-prefix P] [options]
  dualrun compare history [--history FILE] [--limit N]

SPEC is csv:PATH (with a header line), parquet:PATH, db:TABLE (with --db URL) or kafka:TOPIC (a compacted
output topic: JSON-array key, JSON-object value, tombstones delete; with --brokers).
--transform compares db:batch_NAME against kafka:PREFIX.out.NAME with the contract's key and rules, and
explains the differences by the input events read from the domain's input topics (the transformations
are dualrun.config.ts's, or the built-in example domain's). Rows of a dated output on dates the batch never
ran (none in dualrun_batch_runs) are "not run by batch": counted, not compared. --db defaults to
DATABASE_URL, else dualrun's own embedded database (the one replay and batch run use).

Options:
  --tolerance COL=abs:X|rel:Y   equal when |a−b| ≤ X, or ≤ Y × max(|a|,|b|) (inclusive; repeatable)
  --rule COL=precision:ms|s|min|trim|nocase|null-distinct   other per-column rules (repeatable)
  --watermark ISO      the run's cut-off: daily windows not closed by then are "not yet comparable" (default: now)
  --no-events          with --transform: do not read the input topics (differences are then unexplained)
  --out DIR            where reports go (default dualrun-report)
  --format LIST        json,md,html,junit (default all); an earlier run's files of the other formats in --out are removed
  --redact             hide sample values in the reports (keys, counts and event ids stay)
  --history FILE       the DuckDB history file (default DIR/history.duckdb)
  --json               print the JSON report on stdout instead of the summary

Exit codes: 0 parity (differences within tolerance), 1 parity violated, 2 usage or input error.`;

const options = {
  left: { type: 'string' },
  right: { type: 'string' },
  key: { type: 'string' },
  transform: { type: 'string', multiple: true },
  tolerance: { type: 'string', multiple: true },
  rule: { type: 'string', multiple: true },
  watermark: { type: 'string' },
  'no-events': { type: 'boolean' },
  events: { type: 'boolean' },
  db: { type: 'string' },
  brokers: { type: 'string' },
  'topic-prefix': { type: 'string' },
  out: { type: 'string' },
  format: { type: 'string' },
  redact: { type: 'boolean' },
  history: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
} as const;

/** Parses --tolerance and --rule values into per-column rules. */
export function parseRules(tolerances: string[] = [], rules: string[] = []): Record<string, ColumnRule> {
  const result: Record<string, ColumnRule> = {};
  const bad = (flag: string, text: string, expected: string) => new UsageError(`${flag} ${JSON.stringify(text)}: expected ${expected}`, { hint: 'see dualrun compare --help' });
  for (const text of tolerances) {
    const match = /^([^=]+)=(abs|rel):([0-9]+(?:\.[0-9]+)?(?:e-?[0-9]+)?)$/i.exec(text.trim());
    if (!match) throw bad('--tolerance', text, 'COL=abs:X or COL=rel:Y with a number ≥ 0');
    const [, column, kind, value] = match as unknown as [string, string, 'abs' | 'rel', string];
    result[column] = { ...result[column], [kind.toLowerCase()]: Number(value) };
  }
  for (const text of rules) {
    const match = /^([^=]+)=(precision:(ms|s|min)|trim|nocase|null-distinct)$/.exec(text.trim());
    if (!match) throw bad('--rule', text, 'COL=precision:ms|s|min, COL=trim, COL=nocase or COL=null-distinct');
    const [, column, rule, precision] = match as unknown as [string, string, string, 'ms' | 's' | 'min' | undefined];
    const current = result[column] ?? {};
    result[column] = rule.startsWith('precision') ? { ...current, precision: precision! } : rule === 'trim' ? { ...current, trim: true } : rule === 'nocase' ? { ...current, caseInsensitive: true } : { ...current, nullEqualsNull: false };
  }
  return result;
}

function parseFormats(text: string | undefined): ReportFormat[] {
  if (!text) return REPORT_FORMATS;
  const formats = text.split(',').map((format) => format.trim());
  for (const format of formats) if (!REPORT_FORMATS.includes(format as ReportFormat)) throw new UsageError(`--format: unknown format "${format}"`, { hint: `use a comma-separated list of ${REPORT_FORMATS.join(', ')}` });
  return formats as ReportFormat[];
}

function parseWatermark(text: string | undefined): Date {
  if (text === undefined) return new Date();
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(date.getTime())) throw new UsageError(`--watermark ${JSON.stringify(text)} is not an ISO instant`, { hint: 'for example --watermark 2024-10-28T01:00:00Z' });
  return date;
}

export async function run(ctx: CommandContext): Promise<number> {
  const { values, positionals } = ctx.parse(options);
  const { appendHistory, buildReport, compareRelations, compareTransform, parseSpec, writeReports } = await comparator();
  const [{ requireHistoryFile }, { redactReport }] = await Promise.all([import('./history.ts'), import('./report/index.ts')]);
  const out = values.out ?? 'dualrun-report';
  const historyPath = values.history ?? `${out}/history.duckdb`;
  if (positionals[0] === 'history') {
    if (values.history !== undefined) requireHistoryFile(values.history);
    return showHistory(ctx, historyPath, values.limit);
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, { hint: 'see dualrun compare --help' });

  const transforms = (values.transform ?? []).flatMap((names) => names.split(',')).map((name) => getTransform(name.trim(), ctx.project.transforms));
  const pairMode = values.left !== undefined || values.right !== undefined || values.key !== undefined;
  if (transforms.length > 0 && pairMode) throw new UsageError('give either --transform or --left/--right/--key, not both', { hint: 'see dualrun compare --help' });
  if (transforms.length === 0) {
    for (const flag of ['left', 'right', 'key'] as const) if (!values[flag]) throw new UsageError(`missing --${flag}`, { hint: 'dualrun compare --left SPEC --right SPEC --key COL[,COL…], or --transform NAME' });
  }
  const formats = parseFormats(values.format);
  const rules = parseRules(values.tolerance, values.rule);
  const watermark = parseWatermark(values.watermark);
  const left = values.left ? parseSpec(values.left, '--left') : undefined;
  const right = values.right ? parseSpec(values.right, '--right') : undefined;
  const key = values.key?.split(',').map((column) => column.trim()).filter(Boolean) ?? [];
  if (pairMode && key.length === 0) throw new UsageError('--key names no column', { hint: 'give --key COL[,COL…]' });

  const needsDb = transforms.length > 0 || left?.kind === 'db' || right?.kind === 'db';
  const needsKafka = transforms.length > 0 || left?.kind === 'kafka' || right?.kind === 'kafka';
  // Explanations need the input events: read from the input topics whenever a transformation is compared.
  const withEvents = transforms.length > 0 && values['no-events'] !== true;
  // The same legacy database replay and batch run use by default: dualrun's own embedded one.
  const dbUrl = legacyDatabaseUrl(ctx.env, values.db);
  if (needsDb && dbUrl === ownDatabaseUrl(ctx.env) && !existsSync(dbUrl.slice('pglite:'.length))) {
    throw new UsageError(`a db: source needs a database, and dualrun's own embedded one (${dbUrl}) holds nothing yet`, { hint: 'give --db URL (postgres://…, mysql://…, pglite:DIR) or set DATABASE_URL; or fill the embedded one first with dualrun replay and dualrun batch run' });
  }
  const { resolveBrokers } = await import('../src/cli/brokers.ts');
  const brokers = needsKafka ? await resolveBrokers(values.brokers, ctx.env) : undefined;
  if (needsKafka && !brokers) throw new UsageError('a kafka: source needs brokers', { hint: 'give --brokers HOST:PORT, set KAFKA_BROKERS, or start a local broker with dualrun kafka start' });
  const topicPrefix = values['topic-prefix'] ?? ctx.env.topicPrefix ?? ctx.project.domain.name;

  const [{ openDuck }, { connectKnex }] = await Promise.all([import('./duck.ts'), import('../src/db.ts')]);
  let db: Knex | undefined;
  const duck = await openDuck();
  const results: ComparisonResult[] = [];
  try {
    if (needsDb) db = await connectKnex(dbUrl);
    const shared = {
      rules,
      rulesFromFlags: true,
      watermark,
      duck,
      progress: ctx.progress,
      ...(db ? { db } : {}),
      ...(brokers ? { brokers } : {}),
      ...(withEvents && brokers ? { events: { brokers, topicPrefix }, eventCache: {} } : {}),
    };
    if (transforms.length > 0) {
      const { batchRunDates } = await import('../src/cli/batch-runs.ts');
      for (const transform of transforms) {
        // A dated output's dates the batch never ran are "not run by batch", not differences.
        const batchDates = transform.dateColumn && db ? await batchRunDates(db, transform.name) : undefined;
        results.push(await compareTransform({ ...shared, transform, topicPrefix, ...(batchDates ? { batchDates } : {}) }));
      }
    } else {
      results.push(await compareRelations({ ...shared, left: left!, right: right!, key }));
    }
  } finally {
    duck.close();
    await db?.destroy();
  }
  const report = buildReport(results);
  const written = await writeReports(report, out, formats, { redact: values.redact === true, history: historyPath });
  await appendHistory(historyPath, report);
  // stdout lands in CI logs: --redact hides the values there as it does in the files.
  if (values.json) ctx.out(JSON.stringify(values.redact ? redactReport(report) : report, null, 2));
  else {
    for (const c of results) {
      const n = c.counts;
      const notRun = c.notRunByBatch.left + c.notRunByBatch.right;
      const skipped = notRun > 0 ? `; not run by batch ${notRun} row(s) of ${c.notRunByBatch.dates.length} date(s), not compared (dualrun batch run --date D runs one)` : '';
      ctx.out(`${c.parity ? 'PARITY  ' : 'VIOLATED'} ${c.name}: match ${n.match}, within tolerance ${n.withinTolerance}, mismatch ${n.mismatch}, only left ${n.onlyLeft}, only right ${n.onlyRight}; unexplained ${c.explained.unexplained ?? 0}${skipped}`);
    }
    ctx.out(`reports: ${written.join(', ')}`);
  }
  return report.parity ? ExitCode.ok : ExitCode.failed;
}

async function showHistory(ctx: CommandContext, path: string, limitText: string | undefined): Promise<number> {
  const limit = limitText === undefined ? 10 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit ${JSON.stringify(limitText)} is not a positive whole number`);
  const { readHistory } = await comparator();
  const rows = await readHistory(path, limit);
  if (rows.length === 0) {
    ctx.out(`no runs recorded in ${path} yet`);
    return ExitCode.ok;
  }
  let current = '';
  for (const row of rows) {
    if (row.name !== current) {
      current = row.name;
      ctx.out(`\n${current}`);
      ctx.out('  run at                 verdict   match  within  mismatch  only-left  only-right  unexplained');
    }
    ctx.out(`  ${row.run_at.padEnd(22)} ${(row.parity ? 'parity' : 'VIOLATED').padEnd(8)} ${String(row.match).padStart(6)} ${String(row.within_tolerance).padStart(7)} ${String(row.mismatch).padStart(9)} ${String(row.only_left).padStart(10)} ${String(row.only_right).padStart(11)} ${String(row.unexplained).padStart(12)}`);
  }
  return ExitCode.ok;
}
