/**
 * `dualrun replay`: loads a scenario (all of it validated first) and replays it into the legacy database
 * and the Kafka input topics, with a progress line on stderr and a summary of rows and messages written.
 */
import { mkdir } from 'node:fs/promises';
import { legacyDatabaseUrl, ownDatabaseUrl } from '../database-url.ts';
import { resolveBrokers } from '../cli/brokers.ts';
import type { CommandContext } from '../cli/command.ts';
import { connectKnex, engineOf, redactUrl } from '../db.ts';
import { ExitCode, UnavailableError, UsageError } from '../errors.ts';
import { loadScenario } from '../scenario/load.ts';
import { DEFAULT_PARTITIONS } from './kafka.ts';
import { replay, type ReplaySummary } from './replay.ts';

export const help = `dualrun replay — feed a scenario to the legacy database and to Kafka, in arrival order

Usage: dualrun replay --scenario NAME|DIR [options]

  --scenario NAME|DIR   one of the domain's scenarios (the built-in example's: baseline, late-arrivals, …) or a scenario folder
  --db URL              the legacy database: postgres://…, mysql://…, pglite:/folder or pglite:memory
                        (default: DATABASE_URL, else embedded PGlite in <cache>/pglite, shared with dualrun batch)
  --brokers LIST        Kafka brokers host:port,… (default: KAFKA_BROKERS, else the local broker that
                        \`dualrun kafka start\` runs)
  --topic-prefix P      input topics are P.<entity topic> (default the domain's name)
  --partitions N        partitions of the topics replay creates (default ${DEFAULT_PARTITIONS})
  --after TIME          only events that arrived after TIME (ISO UTC): continue an earlier --until run
  --until TIME          only events that arrived at or before TIME (ISO UTC), e.g. a nightly cut-off
  --reset               empty the legacy tables and delete/recreate the topics first
                        (without it, replay refuses a database or topics that already hold data)
  --create-schema       create the domain's legacy tables that are missing (a fresh database; done anyway in
                        dualrun's own embedded PGlite); replay never drops or recreates a table
  --no-kafka            only the database        --no-db    only Kafka
  --batch-size N        events per transaction and per Kafka send (default 5000)
  --rate N              at most N events per second, a steady load as a live application writes (with a
                        small --batch-size); default as fast as the database and Kafka take them
  --json                print the summary as JSON on stdout (no progress)

Every CSV row is checked before anything is written; a bad row stops the replay with file:line:column.`;

export async function run(ctx: CommandContext): Promise<number> {
  const { values } = ctx.parse({
    scenario: { type: 'string' },
    db: { type: 'string' },
    brokers: { type: 'string' },
    'topic-prefix': { type: 'string' },
    partitions: { type: 'string' },
    after: { type: 'string' },
    until: { type: 'string' },
    reset: { type: 'boolean' },
    'create-schema': { type: 'boolean' },
    'no-kafka': { type: 'boolean' },
    'no-db': { type: 'boolean' },
    'batch-size': { type: 'string' },
    rate: { type: 'string' },
    json: { type: 'boolean' },
    verbose: { type: 'boolean' },
  });
  if (!values.scenario) throw new UsageError('dualrun replay needs --scenario NAME|DIR', { hint: 'for example: dualrun replay --scenario baseline' });
  if (values['no-kafka'] && values['no-db']) throw new UsageError('--no-kafka and --no-db together leave nothing to replay into', { hint: 'drop one of them' });
  const partitions = values.partitions === undefined ? ctx.env.partitions : positiveInt('--partitions', values.partitions);
  const batchSize = values['batch-size'] === undefined ? undefined : positiveInt('--batch-size', values['batch-size']);
  const rate = values.rate === undefined ? undefined : positiveInt('--rate', values.rate);
  const after = values.after === undefined ? undefined : instant('--after', values.after);
  const until = values.until === undefined ? undefined : instant('--until', values.until);
  if (after && until && after.getTime() >= until.getTime()) {
    throw new UsageError(`--after ${values.after} is not before --until ${values.until}: no event arrives in between`, { hint: '--after continues where an earlier --until stopped: give it that earlier time, before --until' });
  }

  const scenario = await loadScenario(values.scenario, ctx.project);
  let brokers: string[] | undefined;
  if (!values['no-kafka']) {
    brokers = await resolveBrokers(values.brokers, ctx.env);
    if (brokers === undefined) {
      throw new UnavailableError('kafka', 'no Kafka broker: --brokers and KAFKA_BROKERS are unset and no local broker is running', {
        hint: 'start one with `dualrun kafka start` (it prints the address), or pass --brokers host:port, or replay with --no-kafka',
      });
    }
  }
  const topicPrefix = values['topic-prefix'] ?? ctx.env.topicPrefix;
  const url = values['no-db'] ? undefined : legacyDatabaseUrl(ctx.env, values.db);
  if (url && engineOf(url) === 'pglite' && !/^pglite:(memory)?$/.test(url)) await mkdir(url.slice('pglite:'.length), { recursive: true });
  const db = url ? await connectKnex(url) : undefined;

  ctx.progress(`replaying ${scenario.name} (${scenario.events.length} events) into ${[url && redactUrl(url), brokers && `kafka ${brokers.join(',')}`].filter(Boolean).join(' and ')}`);
  const bar = progressBar(ctx);
  // Stopped part way, the tables and topics hold part of the scenario, which a plain rerun refuses: say how to go on.
  const onSignal = (signal: NodeJS.Signals): void => {
    ctx.progress(`${signal}: replay stopped part way; ${howToResume(ctx.argv, after !== undefined)}`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const summary = await replay({
      domain: ctx.project.domain,
      events: scenario.events,
      ...(db ? { db } : {}),
      ...(brokers ? { kafka: { brokers, ...(topicPrefix ? { topicPrefix } : {}), ...(partitions ? { partitions } : {}) } } : {}),
      ...(after ? { after } : {}),
      ...(until ? { until } : {}),
      reset: values.reset ?? false,
      // dualrun's own embedded database, or a PGlite one in memory, is nobody's legacy schema: its tables are made as needed.
      createSchema: values['create-schema'] ?? (url !== undefined && (url === ownDatabaseUrl(ctx.env) || /^pglite:(memory)?$/.test(url))),
      logger: ctx.logger,
      onProgress: bar,
      ...(batchSize ? { batchSize } : {}),
      ...(rate ? { rate } : {}),
    });
    const window = splitOutside(scenario.events, after, until);
    ctx.out(values.json ? JSON.stringify({ scenario: scenario.name, ...summary, ...window }) : describeSummary(summary, window));
    return ExitCode.ok;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await db?.destroy();
  }
}

/** The exact command that starts an interrupted replay over (database transactions and Kafka sends cannot be resumed in step). */
export function howToResume(argv: readonly string[], continuing: boolean): string {
  const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`);
  const again = `dualrun replay ${[...argv.filter((arg) => arg !== '--reset'), '--reset'].map(quote).join(' ')}`;
  return continuing
    ? 'the legacy tables and topics hold the earlier steps and part of this one: start over by replaying the first step again with --reset, then the later ones'
    : `the legacy tables and topics hold part of the scenario: start over with\n  ${again}`;
}

function positiveInt(flag: string, raw: string): number {
  if (!/^[1-9]\d*$/.test(raw)) throw new UsageError(`${flag} expects a whole number of at least 1, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function instant(flag: string, raw: string): Date {
  const date = new Date(raw);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(raw) || Number.isNaN(date.getTime())) {
    throw new UsageError(`${flag} expects an ISO-8601 time with a zone, like 2024-06-11T00:00:00Z, got ${JSON.stringify(raw)}`);
  }
  return date;
}

/** A progress line on stderr, at most one a second. */
export function progressBar(ctx: Pick<CommandContext, 'progress'>, label = 'events'): (done: number, total: number) => void {
  let last = 0;
  const started = Date.now();
  return (done, total) => {
    const now = Date.now();
    if (done !== 0 && done !== total && now - last < 1000) return;
    last = now;
    const width = 30;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    const rate = done / Math.max((now - started) / 1000, 0.001);
    ctx.progress(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label} ${Math.round(rate)}/s`);
  };
}

/** The events outside (after, until]: arrived by --after (an earlier run replayed them) or after --until (left for a later one). */
export function splitOutside(events: readonly { arrivalTime: string }[], after: Date | undefined, until: Date | undefined): { replayedBefore: number; leftForLater: number } {
  const [from, to] = [after?.toISOString(), until?.toISOString()];
  return {
    replayedBefore: from === undefined ? 0 : events.filter((event) => event.arrivalTime <= from).length,
    leftForLater: to === undefined ? 0 : events.filter((event) => event.arrivalTime > to && (from === undefined || event.arrivalTime > from)).length,
  };
}

export function describeSummary(summary: ReplaySummary, window: { replayedBefore: number; leftForLater: number } = { replayedBefore: 0, leftForLater: summary.outside }): string {
  const skipped = [
    window.replayedBefore ? `${window.replayedBefore} that arrived by --after (replayed by the earlier run)` : '',
    window.leftForLater ? `${window.leftForLater} that arrive after --until, left for later` : '',
  ].filter(Boolean);
  const lines = [`replayed ${summary.events} events (${summary.redeliveries} redeliveries) in ${summary.seconds.toFixed(2)} s${skipped.length ? `; not replayed: ${skipped.join(', ')}` : ''}`];
  if (summary.firstArrival) lines.push(`  arrivals ${summary.firstArrival} … ${summary.lastArrival}`);
  if (summary.database) {
    for (const [table, counts] of Object.entries(summary.database)) {
      lines.push(`  ${table.padEnd(16)} ${counts.upserted} written, ${counts.updated} updated, ${counts.deleted} deleted`);
    }
  }
  if (summary.kafka) {
    for (const [topic, counts] of Object.entries(summary.kafka)) lines.push(`  ${topic.padEnd(20)} ${counts.messages} messages (${counts.tombstones} tombstones)`);
  }
  return lines.join('\n');
}
