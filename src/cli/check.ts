/**
 * `dualrun check`: the parity gate for CI. Compares what the migration manifest says (shadow and
 * cutover transformations), judges each against its thresholds and allowed differences, needs a
 * streak of passing nights before cutover, records the verdicts, and exits non-zero when the gate fails.
 * With --scenario it first runs the whole dual run on that scenario (replay, batch, stream).
 */
import { appendFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DualrunConfig, ManifestEntry } from '../config-file.ts';
import { connectKnex } from '../db.ts';
import { businessDay, cutoffFor, nextDate } from '../time.ts';
import { ExitCode, UsageError } from '../errors.ts';
import type { Transform } from '../transforms/contract.ts';
import { parseBrokersFlag } from './brokers.ts';
import type { CommandContext } from './command.ts';
import { dualRun, parseSource } from './dual-run.ts';
import type { GateVerdict } from '../../compare/gate.ts';
import type { ComparisonResult, Report } from '../../compare/types.ts';

export const help = `dualrun check — the migration gate for CI

Usage: dualrun check [--config FILE] [--scenario NAME|DIR [--reset] [--keep-topics] [--source events|cdc]] [--db URL] [--brokers LIST] [--topic-prefix P]
                     [--out DIR] [--history FILE] [--watermark ISO]

Reads the migration manifest in dualrun.config.ts (or --config). Each transformation has a stage:
  legacy    only the batch job runs: reported, not gated
  shadow    both run; the gate checks parity: unexplained differences and differences over the thresholds fail,
            allowed known differences ({ category, maxRatio, reason }) pass and stay visible in the report
  cutover   as shadow, and it also needs promoteAfter passing nights in a row (from the history)
  retired   the batch job is gone: reported, not gated
With no manifest, every transformation is checked as shadow with zero tolerance.

Without --scenario, compares the outputs already there: table batch_<name> in --db (or DATABASE_URL, or the
config's database) against topic <prefix>.out.<name>, explained by the input topics. With --scenario, first runs
the whole dual run on it, on fresh topics, in a fresh embedded database unless --db names one (never the
configured database), on a local broker unless --brokers / KAFKA_BROKERS / the config name a cluster.
--reset empties the legacy tables of that --db first (a database an earlier run filled is refused without it).
The run's topics (<fresh prefix>.*) and its consumer group are deleted afterwards unless --keep-topics.
--source cdc feeds the streaming job from the legacy database's change events (Debezium), as dualrun demo does.

Writes to --out (default from the config, else ./dualrun-report): report.json, report.html, report.md,
gate.md (also appended to $GITHUB_STEP_SUMMARY when set) and junit.xml (one testcase per transformation).
History (for streaks, and dualrun status) goes to --history (default <out>/history.duckdb). A streak counts
nights, not runs: a run's night is the cut-off it judged (--watermark, by default the last 02:00 cut-off in
the domain's time zone; with --scenario the scenario's last cut-off). Checking a night again, or an earlier one, passes or
fails as usual but does not lengthen the streak; a failing run resets it.

Exit codes: 0 the gate passes, 1 it fails, 2 usage or input error, 3 bad configuration, 4 a service is unavailable.`;

const options = {
  scenario: { type: 'string' },
  db: { type: 'string' },
  brokers: { type: 'string' },
  'topic-prefix': { type: 'string' },
  out: { type: 'string' },
  history: { type: 'string' },
  watermark: { type: 'string' },
  reset: { type: 'boolean' },
  'keep-topics': { type: 'boolean' },
  source: { type: 'string' },
  verbose: { type: 'boolean' },
} as const;

const DEFAULT_ENTRY: ManifestEntry = { stage: 'shadow', thresholds: { maxMismatchRatio: 0, maxUnexplained: 0 }, allowedDifferences: [], promoteAfter: 3 };

/** The manifest to judge: the user's, or every transformation as shadow. */
export function manifestOf(config: DualrunConfig, all: readonly Transform[]): [string, ManifestEntry][] {
  const entries = Object.entries(config.migration);
  return entries.length > 0 ? entries : all.map((transform) => [transform.name, DEFAULT_ENTRY]);
}

export async function run(ctx: CommandContext): Promise<number> {
  const { values, positionals } = ctx.parse(options);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, { hint: 'see dualrun check --help' });
  const { config } = ctx;
  const all = ctx.project.transforms;
  const manifest = manifestOf(config, all);
  const gatedNames = new Set(manifest.filter(([, entry]) => entry.stage === 'shadow' || entry.stage === 'cutover').map(([name]) => name));
  const toCompare = all.filter((transform) => gatedNames.has(transform.name));
  const out = resolve(values.out ?? config.report.out);
  const historyPath = resolve(values.history ?? join(out, 'history.duckdb'));
  // Flags, then the environment, then dualrun.config.ts (main.ts merged those two).
  const brokers = values.brokers !== undefined ? parseBrokersFlag(values.brokers) : ctx.env.kafkaBrokers;
  const dbUrl = values.db ?? ctx.env.databaseUrl;
  const topicPrefix = values['topic-prefix'] ?? ctx.env.topicPrefix;
  if (values['keep-topics'] && values.scenario === undefined) throw new UsageError('--keep-topics keeps the topics a scenario run creates, so it needs --scenario', { hint: 'drop --keep-topics, or add --scenario NAME' });
  if (values.reset && values.scenario === undefined) throw new UsageError('--reset empties the legacy tables a scenario is replayed into, so it needs --scenario', { hint: 'drop --reset to judge the outputs already there, or add --scenario NAME' });

  let report: Report;
  // The night this run judges: the cut-off the outputs saw.
  let night: Date;
  if (values.scenario !== undefined) {
    const result = await dualRun({
      project: ctx.project,
      scenario: values.scenario,
      transforms: toCompare,
      // A scenario's rows go only where --db says: never into the configured (real) legacy database.
      dbUrl: values.db,
      brokers,
      reset: values.reset ?? false,
      keepBroker: false,
      keepTopics: values['keep-topics'] ?? false,
    source: parseSource(values.source),
    connectUrl: ctx.env.connectUrl,
      cacheDir: ctx.env.cacheDir,
      kafkaHome: ctx.env.kafkaHome,
      logger: ctx.logger,
      progress: ctx.progress,
    });
    report = result.report;
    night = result.watermark;
  } else {
    if (!dbUrl) throw new UsageError('comparing existing outputs needs the legacy database', { hint: 'give --db URL, database.url in the config, or DATABASE_URL; or run on a scenario with --scenario NAME' });
    if (!brokers) throw new UsageError('comparing existing outputs needs the Kafka cluster', { hint: 'give --brokers, kafka.brokers in the config, or KAFKA_BROKERS; or run on a scenario with --scenario NAME' });
    night = parseWatermark(values.watermark, ctx.project.domain.timeZone);
    report = await compareExisting(toCompare, dbUrl, brokers, topicPrefix ?? ctx.project.domain.name, night, ctx);
  }

  const { evaluateGate } = await import('../../compare/gate.ts');
  const { appendGateVerdicts, readGateHistory, streaksOf } = await import('../../compare/gate-history.ts');
  const { appendHistory } = await import('../../compare/history.ts');
  const streaks = streaksOf(await readGateHistory(historyPath));
  const byName = new Map<string, ComparisonResult>(report.comparisons.map((comparison) => [comparison.name, comparison]));
  const verdicts: GateVerdict[] = manifest.map(([name, entry]) => {
    const comparison = byName.get(name);
    if (!comparison) return { transform: name, stage: entry.stage, gated: false, passed: true, streak: 0, streakNight: null, reasons: [entry.stage === 'legacy' ? 'not compared: only the batch job runs' : 'not compared: the batch job is retired'], allowed: [] };
    return evaluateGate(
      {
        transform: name,
        counts: comparison.counts,
        categories: comparison.explained,
        previousStreak: streaks.get(name)?.streak ?? 0,
        previousNight: streaks.get(name)?.night ?? null,
        night: night.toISOString(),
        missingColumns: { onlyLeft: comparison.schema.onlyLeft, onlyRight: comparison.schema.onlyRight },
        nullKeyRows: { left: comparison.findings.nullKeys.leftRows, right: comparison.findings.nullKeys.rightRows },
      },
      entry,
    );
  });

  const written = await writeOutputs(report, verdicts, out, { history: historyPath, night: night.toISOString() });
  await appendHistory(historyPath, report);
  // Only gated verdicts make history: a legacy or retired transformation has no streak to keep.
  await appendGateVerdicts(historyPath, new Date(report.generatedAt), verdicts.filter((verdict) => verdict.gated), night.toISOString());

  const failing = verdicts.filter((verdict) => !verdict.passed);
  for (const verdict of verdicts) {
    const label = !verdict.gated ? 'not gated' : verdict.passed ? 'PASS' : 'FAIL';
    ctx.out(`${label.padEnd(9)} ${verdict.transform} (${verdict.stage}, streak ${verdict.streak})${verdict.reasons.length ? `: ${verdict.reasons.join('; ')}` : ''}`);
  }
  ctx.out(`gate ${failing.length === 0 ? 'passes' : `fails for ${failing.map((v) => v.transform).join(', ')}`}; reports: ${written.join(', ')}`);
  return failing.length === 0 ? ExitCode.ok : ExitCode.failed;
}

async function compareExisting(chosen: readonly Transform[], dbUrl: string, brokers: string[], topicPrefix: string, watermark: Date, ctx: CommandContext): Promise<Report> {
  const { compareTransforms } = await import('../../compare/index.ts');
  const db = await connectKnex(dbUrl);
  try {
    return await compareTransforms(chosen, { db, brokers, topicPrefix, watermark, events: { brokers, topicPrefix }, progress: ctx.progress });
  } finally {
    await db.destroy();
  }
}

async function writeOutputs(report: Report, verdicts: readonly GateVerdict[], out: string, history: { history: string; night: string }): Promise<string[]> {
  const { writeReports } = await import('../../compare/report/index.ts');
  const { renderGateJunit, renderGateMarkdown } = await import('../../compare/report/gate.ts');
  const { writeFile } = await import('node:fs/promises');
  // The HTML report draws the nights already in the history, and this one.
  const written = await writeReports(report, out, ['json', 'html', 'md'], history);
  const gateMarkdown = renderGateMarkdown(verdicts);
  await writeFile(join(out, 'gate.md'), gateMarkdown);
  await writeFile(join(out, 'junit.xml'), renderGateJunit(verdicts, report.generatedAt));
  if (process.env.GITHUB_STEP_SUMMARY) await appendFile(process.env.GITHUB_STEP_SUMMARY, gateMarkdown);
  return [...written, join(out, 'gate.md'), join(out, 'junit.xml')];
}

/** --watermark, or the most recent nightly cut-off that has passed (02:00 in the domain's time zone). */
function parseWatermark(value: string | undefined, timeZone: string, now = new Date()): Date {
  if (value !== undefined) {
    const parsed = new Date(value);
    if (Number.isNaN(parsed.getTime())) throw new UsageError(`--watermark ${JSON.stringify(value)} is not an ISO-8601 instant`, { hint: 'for example --watermark 2024-10-28T01:00:00Z' });
    return parsed;
  }
  const yesterday = nextDate(businessDay(now, timeZone), -1);
  const cutoff = cutoffFor(yesterday, '02:00', timeZone);
  return cutoff <= now ? cutoff : cutoffFor(nextDate(yesterday, -1), '02:00', timeZone);
}
