/**
 * `dualrun demo`: the whole story on one machine — replay a scenario into a legacy database and
 * Kafka, run the nightly batch job and the streaming job, compare, explain, report — using an embedded
 * PGlite database and a local broker unless told otherwise, and stopping whatever it started.
 */
import { resolve } from 'node:path';
import { ExitCode, UsageError } from '../errors.ts';
import { selectTransforms } from '../transforms/index.ts';
import { parseBrokersFlag } from './brokers.ts';
import type { CommandContext } from './command.ts';
import { dualRun, parseSource } from './dual-run.ts';
import { summaryTable, unexplainedCount } from './summary.ts';

export const help = `dualrun demo — a full parity run on one machine

Usage: dualrun demo [--scenario NAME|DIR] [--out DIR] [--db URL] [--brokers LIST] [--keep-broker] [--keep-topics]
                    [--transform NAME…] [--reset] [--source events|cdc]

Replays the scenario (default: the domain's demo scenario, the shop's customer-moves) into the legacy database
and Kafka night by night: to each business date's cut-off, then the nightly batch job for that date. Then runs
the streaming job until it has caught up, compares each transformation's two outputs in DuckDB, explains every
difference, and writes report.json, report.md, report.html and junit.xml to --out (default ./dualrun-report).
The domain and its transformations come from dualrun.config.ts (--config; default the example shop).

  --scenario NAME|DIR  one of the domain's scenarios (the shop's: baseline, cancellations-and-deletes,
                       customer-moves, dst-boundary, duplicates, late-arrivals), or a scenario folder
  --db URL             legacy database (default DATABASE_URL, else a fresh embedded PGlite database); checked
                       first, and created on its server when it does not exist
  --brokers LIST       Kafka cluster (default KAFKA_BROKERS, else a local broker started and stopped here)
  --keep-broker        leave the local broker running afterwards (stop it with dualrun kafka stop)
  --keep-topics        leave the run's topics (a fresh prefix, dualrun-<id>.*) and its consumer group on the
                       cluster; by default they are deleted at the end (a broker the demo stops takes them along)
  --transform NAME     only these transformations (repeatable; default every one of dualrun.config.ts)
  --source cdc         the replay writes only the legacy database (one transaction per event, as the application
                       would); Debezium on Kafka Connect captures its log and the streaming job runs on those
                       change events (dualrun stream run --source cdc). Needs PostgreSQL with wal_level=logical
                       or MariaDB with a row binlog (see dualrun cdc --help): --db, else a PostgreSQL cluster of
                       the run's own (Debian's initdb). Default events: the replay feeds Kafka
  --reset              start over on --db: empty its legacy tables, and the batch outputs and run history
                       of the transformations run

Exit codes: 0 every difference is explained, 1 unexplained differences (suspect a bug) or outputs of another shape, 2 usage, 4 a service is unavailable.`;

const options = {
  scenario: { type: 'string' },
  out: { type: 'string' },
  db: { type: 'string' },
  brokers: { type: 'string' },
  'keep-broker': { type: 'boolean' },
  transform: { type: 'string', multiple: true },
  reset: { type: 'boolean' },
  'keep-topics': { type: 'boolean' },
  source: { type: 'string' },
  verbose: { type: 'boolean' },
} as const;

export async function run(ctx: CommandContext): Promise<number> {
  const { values, positionals } = ctx.parse(options);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, { hint: 'see dualrun demo --help' });
  const brokers = values.brokers !== undefined ? parseBrokersFlag(values.brokers) : ctx.env.kafkaBrokers;
  const chosen = selectTransforms(values.transform ?? [], ctx.project.transforms);
  const out = resolve(values.out ?? 'dualrun-report');
  const started = Date.now();

  const scenario = values.scenario ?? ctx.project.domain.demo;
  if (scenario === undefined) throw new UsageError(`the ${ctx.project.domain.name} domain names no demo scenario`, { hint: 'pass --scenario NAME|DIR, or set demo: "<scenario>" in defineDomain' });
  const result = await dualRun({
    project: ctx.project,
    scenario,
    transforms: chosen,
    dbUrl: values.db ?? ctx.env.databaseUrl,
    brokers,
    reset: values.reset ?? false,
    keepBroker: values['keep-broker'] ?? false,
    keepTopics: values['keep-topics'] ?? false,
    source: parseSource(values.source),
    connectUrl: ctx.env.connectUrl,
    cacheDir: ctx.env.cacheDir,
    kafkaHome: ctx.env.kafkaHome,
    logger: ctx.logger,
    progress: ctx.progress,
  });
  const { writeReports } = await import('../../compare/report/index.ts');
  const written = await writeReports(result.report, out);
  const comparisons = result.report.comparisons;
  const unexplained = unexplainedCount(comparisons);
  // Differences the explainers cannot speak to: columns on one side only, rows with a NULL key.
  const malformed = comparisons.filter((c) => c.schema.onlyLeft.length + c.schema.onlyRight.length > 0 || c.findings.nullKeys.leftRows + c.findings.nullKeys.rightRows > 0);

  ctx.out(`\n${summaryTable(comparisons)}\n`);
  const differing = comparisons.reduce((total, c) => total + c.counts.mismatch + c.counts.onlyLeft + c.counts.onlyRight, 0);
  ctx.out(
    differing === 0 && malformed.length === 0
      ? 'No differences: batch and stream agree on every row compared.'
      : unexplained === 0
        ? 'Every difference is explained by a known batch-vs-streaming semantic (see the report for the proving events).'
        : `${unexplained} difference(s) are UNEXPLAINED: suspect a bug in one of the two implementations.`,
  );
  ctx.out(`Report: ${written.find((file) => file.endsWith('.html')) ?? written[0]}  (also ${written.filter((file) => !file.endsWith('.html')).map((file) => file.slice(out.length + 1)).join(', ')})`);
  for (const c of malformed) ctx.out(`${c.name}: the outputs differ in shape or have NULL keys (columns only in batch: ${c.schema.onlyLeft.join(', ') || '—'}; only in stream: ${c.schema.onlyRight.join(', ') || '—'}; NULL-key rows: ${c.findings.nullKeys.leftRows + c.findings.nullKeys.rightRows})`);
  if (result.keptBroker) ctx.out(`Kafka broker left running at ${result.keptBroker.brokers} (pid ${result.keptBroker.pid}); stop it with: npx dualrun kafka stop`);
  ctx.progress(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return unexplained === 0 && malformed.length === 0 ? ExitCode.ok : ExitCode.failed;
}
