/**
 * `dualrun cdc fetch | start | status | stop`: change data capture as a background service, managed like
 * the local broker. Debezium on a Kafka Connect worker (a local standalone one, or CONNECT_URL's cluster)
 * reads the legacy database's log and writes one change event per row change to `<prefix>.cdc.<table>`.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Knex } from 'knex';
import type { CommandContext } from '../../src/cli/command.ts';
import { resolveBrokers } from '../../src/cli/brokers.ts';
import { stopLeftovers } from '../../src/cli/run-leftovers.ts';
import { legacyDatabaseUrl } from '../../src/database-url.ts';
import { connectKnex, redactUrl } from '../../src/db.ts';
import { UnavailableError, UsageError } from '../../src/errors.ts';
import { createKafka, fetchTopicOffsets } from '../../src/kafka-client.ts';
import { DEFAULT_PARTITIONS } from '../../src/replay/kafka.ts';
import { startCapture, stopCapture } from './capture.ts';
import { captureLag } from './database.ts';
import { CONNECT_VERSION, DEBEZIUM_CONNECTORS, provisionConnect } from './provision.ts';
import { connectorOffsets, connectorStatus, failureOf } from './rest.ts';
import { clearCdcState, readCdcState, workerAlive, writeCdcState, type CdcState } from './state.ts';

export const help = `dualrun cdc — change data capture: Debezium reads the legacy database's log into Kafka

Usage:
  dualrun cdc fetch [--refresh]
  dualrun cdc start [--db URL] [--brokers LIST] [--topic-prefix P] [--partitions N] [--create-schema] [--heap 512m] [--json]
  dualrun cdc status [--topic-prefix P] [--json]
  dualrun cdc stop [--topic-prefix P] [--keep-slot] [--json]

fetch    only fetches Kafka Connect ${CONNECT_VERSION} and the Debezium connectors (PostgreSQL ${DEBEZIUM_CONNECTORS.postgres.version},
         MariaDB ${DEBEZIUM_CONNECTORS.mariadb.version}) from Maven Central into the cache, e.g. while provisioning CI.
start    (a worker that died is started again on its offsets, resuming where it stopped)
         checks that the database can be captured (exit 4 naming the setting and its fix otherwise):
           PostgreSQL: wal_level=logical, max_replication_slots and max_wal_senders of at least 1, and a
             role with REPLICATION (or a superuser);
           MariaDB: log_bin, binlog_format=ROW, binlog_row_image=FULL and a server_id in the [mariadbd]
             section of its config (log_bin needs a restart), and a user with GRANT SELECT, RELOAD,
             SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.*;
         starts a Connect worker in the background (unless CONNECT_URL),
         registers a connector for the domain's legacy tables and waits until their snapshot is read.
         Change events land in P.cdc.<table>; a child table's rows are keyed by their parent's key.
status   the connector's state, its source offsets, the events in each change topic and the log not yet
         captured (bytes of WAL or binlog).
stop     stops the worker (or removes the connector from CONNECT_URL's cluster) and drops the PostgreSQL
         replication slot and publication unless --keep-slot (a slot left behind keeps WAL forever).
start and stop also stop what a killed \`dualrun demo --source cdc\` left running (its Connect worker, its
PostgreSQL cluster, its broker), as the next demo does.

  --db URL          the legacy database (default DATABASE_URL): postgres://… or mysql://… (MariaDB), not the
                    embedded PGlite
  --brokers LIST    Kafka brokers host:port,… (default KAFKA_BROKERS, else the local broker)
  --topic-prefix P  the change topics are P.cdc.<table> (default the domain's name); one capture per prefix
  --partitions N    partitions of the change topics (default ${DEFAULT_PARTITIONS})
  --create-schema   create the domain's legacy tables that are missing first (a fresh database)
  --heap SIZE       the Connect worker's Java heap (default 512m)

Environment:
  CONNECT_URL       an existing Kafka Connect cluster's REST API, with the Debezium connectors installed
  JAVA_HOME         the Java 17+ runtime for the local worker (default: java on PATH)`;

const options = {
  db: { type: 'string' },
  brokers: { type: 'string' },
  'topic-prefix': { type: 'string' },
  partitions: { type: 'string' },
  'create-schema': { type: 'boolean' },
  heap: { type: 'string' },
  refresh: { type: 'boolean' },
  'keep-slot': { type: 'boolean' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
} as const;

export async function run(ctx: CommandContext): Promise<number> {
  const { values, positionals } = ctx.parse(options);
  const action = positionals[0];
  const topicPrefix = values['topic-prefix'] ?? ctx.env.topicPrefix ?? ctx.project.domain.name;
  const print = (info: object, text: string): void => ctx.out(values.json ? JSON.stringify(info) : text);
  switch (action) {
    case 'fetch': {
      if (values.refresh) {
        await rm(join(ctx.env.cacheDir, `kafka-connect-${CONNECT_VERSION}`), { recursive: true, force: true });
        for (const { artifact, version } of Object.values(DEBEZIUM_CONNECTORS)) await rm(join(ctx.env.cacheDir, `${artifact}-${version}`), { recursive: true, force: true });
      }
      const jars = await provisionConnect({ cacheDir: ctx.env.cacheDir, logger: ctx.logger });
      ctx.out(`Kafka Connect ${CONNECT_VERSION} and the Debezium connectors ready (plugins: ${jars.pluginPath.join(', ')})`);
      return 0;
    }
    case 'start':
      await stopKilledRuns(ctx);
      return start(ctx, topicPrefix, values, print);
    case 'status':
      return status(ctx, topicPrefix, print);
    case 'stop':
      await stopKilledRuns(ctx);
      return stop(ctx, topicPrefix, Boolean(values['keep-slot']), print);
    default:
      throw new UsageError(action ? `unknown cdc action "${action}"` : 'missing cdc action', { hint: 'use dualrun cdc fetch, start, status or stop (see dualrun cdc --help)' });
  }
}

/** What a dual run (demo --source cdc) killed with SIGKILL left running: its worker, its PostgreSQL cluster, its broker. */
async function stopKilledRuns(ctx: CommandContext): Promise<void> {
  for (const line of await stopLeftovers(ctx.env.cacheDir, ctx.logger)) ctx.progress(line);
}

type Values = { db?: string | undefined; brokers?: string | undefined; partitions?: string | undefined; 'create-schema'?: boolean | undefined; heap?: string | undefined };
type Print = (info: object, text: string) => void;

async function start(ctx: CommandContext, topicPrefix: string, values: Values, print: Print): Promise<number> {
  const existing = await readCdcState(ctx.env.cacheDir, topicPrefix);
  if (existing && (existing.worker ? workerAlive(existing.worker) : await connectorStatus(existing.restUrl, existing.connector.name).catch(() => undefined))) {
    print({ ...describe(existing), alreadyRunning: true }, `change data capture for ${topicPrefix} already runs (${existing.restUrl}); not starting a second one`);
    return 0;
  }
  // A local worker that died (kill -9, a crash) is started again on its data folder: Debezium resumes
  // from its last flushed offset and the slot kept the WAL since; it resends a little, which the job's
  // dedupe absorbs. A capture on CONNECT_URL whose connector is gone starts afresh.
  const resumeFrom = existing?.worker && existsSync(existing.worker.dataDir) ? existing.worker.dataDir : undefined;
  if (existing && !resumeFrom) await forget(ctx, existing, false);
  if (resumeFrom) ctx.progress(`the Connect worker started ${existing!.worker!.startedAt} (pid ${existing!.worker!.pid}) died; starting it again on its offsets (${resumeFrom})`);
  const brokers = await resolveBrokers(values.brokers, ctx.env);
  if (!brokers) {
    throw new UnavailableError('kafka', 'no Kafka broker: --brokers and KAFKA_BROKERS are unset and no local broker is running', { hint: 'start one with `dualrun kafka start`, or pass --brokers host:port' });
  }
  const partitions = values.partitions === undefined ? (ctx.env.partitions ?? DEFAULT_PARTITIONS) : Number(values.partitions);
  if (!Number.isInteger(partitions) || partitions < 1) throw new UsageError(`--partitions must be a whole number of at least 1 (got ${JSON.stringify(values.partitions)})`, { hint: 'for example --partitions 3' });
  const databaseUrl = legacyDatabaseUrl(ctx.env, values.db);
  const started = Date.now();
  const state = await startCapture({
    domain: ctx.project.domain,
    databaseUrl,
    brokers,
    topicPrefix,
    partitions,
    cacheDir: ctx.env.cacheDir,
    connectUrl: ctx.env.connectUrl,
    createSchema: Boolean(values['create-schema']),
    ...(resumeFrom ? { resumeFrom } : {}),
    ...(values.heap ? { heap: values.heap } : {}),
    logger: ctx.logger,
    progress: ctx.progress,
  });
  await writeCdcState(ctx.env.cacheDir, state);
  const topics = Object.entries(state.connector.topics).map(([table, topic]) => `  ${table} → ${topic}`).join('\n');
  print(describe(state), `capturing ${redactUrl(databaseUrl)} (snapshot read in ${((Date.now() - started) / 1000).toFixed(1)} s)\n${topics}\n  connect: ${state.restUrl}${state.worker ? ` (pid ${state.worker.pid}, log ${state.worker.logPath})` : ''}`);
  return 0;
}

async function status(ctx: CommandContext, topicPrefix: string, print: Print): Promise<number> {
  const state = await readCdcState(ctx.env.cacheDir, topicPrefix);
  if (!state) {
    print({ running: false }, `no change data capture runs for topic prefix ${topicPrefix}`);
    return 0;
  }
  if (state.worker && !workerAlive(state.worker)) {
    print({ running: false, died: describe(state) }, `the Connect worker started ${state.worker.startedAt} (pid ${state.worker.pid}) has died\n  log: ${state.worker.logPath}\n  dualrun cdc stop cleans up; dualrun cdc start starts afresh`);
    return 0;
  }
  const connector = await connectorStatus(state.restUrl, state.connector.name);
  const offsets = (await connectorOffsets(state.restUrl, state.connector.name)) ?? [];
  const admin = createKafka({ clientId: 'dualrun-cdc-status', brokers: state.brokers }).admin();
  await admin.connect();
  const events: Record<string, number> = {};
  try {
    const existing = new Set(await admin.listTopics());
    for (const topic of Object.values(state.connector.topics)) {
      events[topic] = existing.has(topic) ? (await fetchTopicOffsets(admin, topic)).reduce((sum, partition) => sum + Number(partition.high), 0) : 0;
    }
  } finally {
    await admin.disconnect();
  }
  let db: Knex | undefined;
  let lagBytes: number | undefined;
  try {
    db = await connectKnex(state.databaseUrl);
    lagBytes = await captureLag(db, state.connector.kind, state.connector.slot, offsets[0]?.offset);
  } finally {
    await db?.destroy();
  }
  const failure = connector && failureOf(connector);
  const info = { running: true, ...describe(state), connectorState: connector?.connector.state ?? 'MISSING', tasks: connector?.tasks.map((task) => ({ id: task.id, state: task.state })) ?? [], offsets, events, lagBytes };
  const lines = [
    `connector ${state.connector.name}: ${info.connectorState}${info.tasks.map((task) => `, task ${task.id} ${task.state}`).join('')} (${state.restUrl})`,
    ...(failure ? [`  ${failure}`] : []),
    `  source offset: ${offsets.length > 0 ? JSON.stringify(offsets[0]!.offset) : 'none committed yet'}`,
    `  log not yet captured: ${lagBytes === undefined ? 'unknown' : `${lagBytes} bytes`}`,
    ...Object.entries(events).map(([topic, count]) => `  ${topic}: ${count} events`),
  ];
  print(info, lines.join('\n'));
  return 0;
}

async function stop(ctx: CommandContext, topicPrefix: string, keepSlot: boolean, print: Print): Promise<number> {
  const state = await readCdcState(ctx.env.cacheDir, topicPrefix);
  if (!state) {
    print({ stopped: false, reason: 'not running' }, `no change data capture runs for topic prefix ${topicPrefix}`);
    return 0;
  }
  await forget(ctx, state, keepSlot);
  const slot = state.connector.slot;
  print(
    { stopped: true, ...describe(state), keptSlot: keepSlot },
    `stopped change data capture for ${topicPrefix}${state.worker ? ` (worker pid ${state.worker.pid})` : ` (connector removed from ${state.restUrl})`}${slot ? (keepSlot ? `; replication slot ${slot} kept` : `; dropped replication slot ${slot}`) : ''}`,
  );
  return 0;
}

/** Stops what a capture left running and forgets it. */
async function forget(ctx: CommandContext, state: CdcState, keepSlot: boolean): Promise<void> {
  await stopCapture(state, { keepSlot, logger: ctx.logger });
  await clearCdcState(ctx.env.cacheDir, state.topicPrefix);
}

function describe(state: CdcState): object {
  return { topicPrefix: state.topicPrefix, restUrl: state.restUrl, connector: state.connector.name, topics: state.connector.topics, database: redactUrl(state.databaseUrl), ...(state.worker ? { pid: state.worker.pid, logPath: state.worker.logPath, dataDir: state.worker.dataDir } : {}), startedAt: state.startedAt };
}
