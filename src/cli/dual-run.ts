/**
 * The dual run, end to end, as a team would run it for a night: feed a scenario's events to the legacy
 * database and Kafka step by step (to each nightly cut-off, then run the batch job for that date),
 * run the streaming job until it has caught up, compare every transformation's two outputs in DuckDB,
 * and write the reports. `dualrun demo` and `dualrun check --scenario` both run this.
 *
 * It wires the three runners together, so it reaches them only through dynamic imports
 * (DESIGN.md section 3): loading this file loads none of kafkajs, knex dialect code or DuckDB.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { engineOf, redactUrl } from '../db.ts';
import { connectOrCreate } from '../db-create.ts';
import { createDomainSchema } from '../replay/schema.ts';
import { cutoffFor } from '../time.ts';
import { DualrunError, SinkError, UnavailableError, UsageError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { forgetBroker, readDead, readRunning, writeState } from '../local-broker-state.ts';
import { loadScenario } from '../scenario/load.ts';
import type { Transform } from '../transforms/contract.ts';
import type { Report } from '../../compare/types.ts';
import type { Project } from './project.ts';
import { RunLeftovers, stopLeftovers } from './run-leftovers.ts';

export interface DualRunOptions {
  /** The domain (and its transformations) the scenario is of. */
  project: Project;
  scenario: string;
  transforms: readonly Transform[];
  /** Legacy database; undefined → a fresh embedded PGlite database in a temporary folder. */
  dbUrl: string | undefined;
  /** Kafka cluster; undefined → a local broker started (and stopped) here. */
  brokers: string[] | undefined;
  /** Topic prefix; default a fresh one per run, so a run never mixes with earlier data. */
  topicPrefix?: string;
  /** Empty the legacy tables, and the batch outputs and run history of these transformations, first (a --db that already holds a run). */
  reset: boolean;
  keepBroker: boolean;
  /** Leave the run's topics (and its job's consumer group) on the cluster; by default they are deleted. */
  keepTopics?: boolean;
  cacheDir: string;
  kafkaHome: string | undefined;
  /** Seconds the streaming job waits with nothing new before it counts as caught up. */
  idleSeconds?: number;
  /**
   * Where the streaming job's input comes from: `events`, the replay writes the input topics too; `cdc`,
   * the replay writes only the legacy database (one transaction per event, as the application commits)
   * and Debezium captures its log, which the job reads through its CDC stage. Default events.
   */
  source?: 'events' | 'cdc';
  /** An existing Kafka Connect cluster for `source: 'cdc'`; undefined: a local worker. */
  connectUrl?: string | undefined;
  logger: Logger;
  progress: (text: string) => void;
}

export interface DualRunResult {
  report: Report;
  brokers: string[];
  dbUrl: string;
  topicPrefix: string;
  /** The last cut-off the outputs saw (the scenario's last night): what the comparison judged. */
  watermark: Date;
  /** The local broker left running with --keep-broker. */
  keptBroker?: { brokers: string; pid: number };
}

/** The --source flag of demo and check. */
export function parseSource(value: string | undefined): 'events' | 'cdc' {
  if (value === undefined || value === 'events' || value === 'cdc') return value ?? 'events';
  throw new UsageError(`--source must be events or cdc (got ${JSON.stringify(value)})`, { hint: 'use --source cdc to feed the streaming job from the legacy database\'s change events (Debezium)' });
}

const seconds = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)} s`;

export async function dualRun(options: DualRunOptions): Promise<DualRunResult> {
  const { progress, logger } = options;
  const scenario = await loadScenario(options.scenario, options.project);
  progress(`scenario ${scenario.name}: ${scenario.description} (${scenario.events.length} events, nights ${scenario.businessDates.join(', ')})`);

  // What an earlier run killed with SIGKILL left running goes first; what this one starts is recorded.
  for (const line of await stopLeftovers(options.cacheDir, logger)) progress(line);
  const leftovers = new RunLeftovers(options.cacheDir);
  const cleanups: (() => Promise<void>)[] = [];
  // Each cleanup runs once, whether the run ends, fails or is interrupted.
  const cleanUp = async (): Promise<void> => {
    let failed = false;
    for (const cleanup of cleanups.splice(0)) {
      await cleanup().catch((error: unknown) => {
        failed = true;
        logger.warn({ error }, 'cleanup failed');
      });
    }
    // Kept when something would not stop: the next run tries again, once this process is gone.
    if (!failed) await leftovers.clear().catch(() => undefined);
  };
  // The local broker runs in its own process group, so Ctrl-C would not reach it: stop it ourselves
  // (one still starting stops itself and removes its data when aborted, and the start then fails).
  const starting = new AbortController();
  let stopping = false;
  let closeDb: (() => Promise<void>) | undefined;
  let stopStreaming: (() => Promise<void>) | undefined;
  // Interrupted, the run finishes the step under way (a replay step still sending would create the
  // topics the cleanup deletes again), starts no other, and then cleans up and exits.
  let halt: () => void = () => undefined;
  const halted = new Promise<void>((resolve) => (halt = resolve));
  const onSignal = (signal: NodeJS.Signals): void => {
    // A fresh embedded database goes with the run; a --db keeps the part of the scenario replayed so far.
    const again = options.dbUrl ? 'run the same command again with --reset (the --db database holds part of the scenario now)' : 'run the same command again';
    progress(`${signal}: stopping what this run started once the step under way ends (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again quits at once and leaves it); to start over, ${again}`);
    stopping = true;
    starting.abort();
    void stopStreaming?.();
    void halted.then(async () => {
      await closeDb?.();
      await cleanUp();
    }).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // The database first: a wrong URL fails in a second, before a broker start of ten.
    let dbUrl = options.dbUrl;
    if (!dbUrl && options.source === 'cdc') {
      // Debezium needs logical decoding, which neither PGlite nor the machine's shared server offers.
      const { startThrowawayPostgres } = await import('../../streaming/connect/throwaway-postgres.ts');
      const pg = await startThrowawayPostgres();
      dbUrl = pg.url;
      cleanups.push(() => pg.stop());
      await leftovers.add({ postgres: pg.dir });
      progress(`legacy database: a PostgreSQL cluster of this run's own with wal_level=logical (${pg.dir})`);
    }
    if (!dbUrl) {
      const dir = await mkdtemp(join(tmpdir(), 'dualrun-demo-db-'));
      dbUrl = `pglite:${dir}`;
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
    }
    const db = await connectOrCreate(dbUrl, progress);
    closeDb = () => db.destroy();
    await createDomainSchema(db, options.project.domain);
    // The real parts: an existing cluster, or a broker of our own for this run.
    let brokers = options.brokers;
    let keptBroker: DualRunResult['keptBroker'];
    // A broker this run starts and stops takes its data (the topics) with it.
    let ownBrokerStops = false;
    if (!brokers) {
      const running = await readRunning(options.cacheDir);
      if (running) {
        brokers = [running.brokers];
        progress(`kafka: using the local broker already running at ${running.brokers} (pid ${running.pid})`);
      } else {
        const started = Date.now();
        progress('kafka: starting a local broker (KAFKA_BROKERS / --brokers use an existing cluster)…');
        const { startLocalKafka } = await import('../../streaming/broker/local-kafka.ts');
        const { stop, ...broker } = await startLocalKafka({ cacheDir: options.cacheDir, kafkaHome: options.kafkaHome, logger, signal: starting.signal });
        brokers = [broker.brokers];
        if (options.keepBroker) {
          // The record of a broker that died goes, with its data, before this one's is written.
          const dead = await readDead(options.cacheDir);
          if (dead) await forgetBroker(options.cacheDir, dead);
          await writeState(options.cacheDir, broker);
          keptBroker = { brokers: broker.brokers, pid: broker.pid };
        } else {
          cleanups.push(() => stop());
          ownBrokerStops = true;
          await leftovers.add({ broker: { pid: broker.pid, dataDir: broker.dataDir } });
        }
        progress(`kafka: broker up at ${broker.brokers} in ${seconds(started)}`);
      }
    }
    const topicPrefix = options.topicPrefix ?? `dualrun-${Date.now().toString(36)}`;
    progress(`legacy database: ${redactUrl(dbUrl)}; topics: ${topicPrefix}.*`);
    // Only a prefix made here is this run's own to delete; cleanups run in order, so before the broker stops.
    if (options.topicPrefix === undefined && !ownBrokerStops) {
      const cluster = brokers;
      if (options.keepTopics) progress(`kafka: the topics ${topicPrefix}.* stay on ${cluster.join(',')} (--keep-topics)`);
      else {
        cleanups.unshift(async () => {
          const { deleteRunTopics } = await import('./run-topics.ts');
          const { topics, warning } = await deleteRunTopics(cluster, topicPrefix, `${topicPrefix}-stream`);
          progress(warning ?? `kafka: deleted this run's ${topics} topics (${topicPrefix}.*) and its consumer group; --keep-topics keeps them`);
        });
      }
    }

    if (options.source === 'cdc') {
      const started = Date.now();
      const { startCapture, stopCapture } = await import('../../streaming/connect/capture.ts');
      const capture = await startCapture({ domain: options.project.domain, databaseUrl: dbUrl, brokers, topicPrefix, partitions: 3, cacheDir: options.cacheDir, connectUrl: options.connectUrl, createSchema: true, logger, progress, onStarted: (state) => leftovers.add({ capture: state }) });
      // First of all cleanups: before the broker and the database it reads go.
      cleanups.unshift(() => stopCapture(capture, { keepSlot: false, logger }));
      progress(`cdc: capturing ${redactUrl(dbUrl)} into ${topicPrefix}.cdc.* (snapshot read in ${seconds(started)})`);
    }

    // Interrupted: no further step starts; this one waits here for the cleanup and the exit.
    const unlessStopping = async (): Promise<void> => {
      if (!stopping) return;
      halt();
      await new Promise<never>(() => undefined);
    };
    await nightly(db, dbUrl, brokers, topicPrefix, scenario, options, unlessStopping);
    await unlessStopping();
    await streaming(brokers, topicPrefix, options, (stop) => (stopStreaming = stop));
    stopStreaming = undefined;
    await unlessStopping();
    const report = await comparing(db, brokers, topicPrefix, scenario, options);
    return { report, brokers, dbUrl, topicPrefix, watermark: lastCutoff(scenario, options.project.domain.timeZone), ...(keptBroker ? { keptBroker } : {}) };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // Interrupted, the signal handler cleans up (this step may have failed for it, or finished).
    if (stopping) halt();
    else {
      await closeDb?.();
      await cleanUp();
    }
  }
}

type Scenario = Awaited<ReturnType<typeof loadScenario>>;

/** Replay to each night's cut-off and run the batch job for that date, then replay the rest. */
async function nightly(db: Knex, dbUrl: string, brokers: string[], topicPrefix: string, scenario: Scenario, options: DualRunOptions, unlessStopping: () => Promise<void>): Promise<void> {
  const { replay } = await import('../replay/replay.ts');
  const { runBatch } = await import('../../batch/runner.ts');
  if (options.reset) {
    // Started over: the outputs and run history of an earlier run on this database go too, or its dates would be compared.
    const { resetBatchOutputs } = await import('../../batch/tables.ts');
    await resetBatchOutputs(db, options.transforms);
  }
  // With CDC the replay is the legacy application: it writes only the database, one event per transaction.
  const cdc = options.source === 'cdc';
  const kafka = cdc ? undefined : { brokers, topicPrefix };
  let after: Date | undefined;
  let first = true;
  const step = async (until: Date | undefined, label: string): Promise<void> => {
    await unlessStopping();
    const started = Date.now();
    const summary = await replay({ domain: options.project.domain, events: scenario.events, db, ...(kafka ? { kafka } : { batchSize: 1 }), reset: first && options.reset, logger: options.logger, ...(after ? { after } : {}), ...(until ? { until } : {}) });
    first = false;
    options.progress(`replay ${label}: ${summary.events} events (${summary.redeliveries} redelivered) into the database${kafka ? ' and Kafka' : ''} in ${seconds(started)}`);
  };
  for (const date of scenario.businessDates) {
    const cutoff = cutoffFor(date, scenario.cutoffTime, options.project.domain.timeZone);
    await step(cutoff, `to the ${date} cut-off (${cutoff.toISOString()})`);
    await unlessStopping();
    const started = Date.now();
    const outcomes = await runBatch({ db, engine: engineOf(dbUrl), transforms: options.transforms, businessDate: date, cutoff, logger: options.logger });
    const failed = outcomes.find((outcome) => outcome.status === 'failed' || outcome.status === 'skipped');
    if (failed && 'error' in failed) throw failed.error;
    const rows = outcomes.reduce((total, outcome) => total + (outcome.status === 'succeeded' ? outcome.rowsWritten : 0), 0);
    options.progress(`batch ${date}: ${outcomes.length} transformations, ${rows} rows written in ${seconds(started)}`);
    after = cutoff;
  }
  await step(undefined, 'of the events after the last cut-off');
}

/** Run the streaming job from the beginning until it has caught up and gone idle (or `onStop`'s stop is called). */
async function streaming(brokers: string[], topicPrefix: string, options: DualRunOptions, onStop: (stop: () => Promise<void>) => void): Promise<void> {
  const { StreamRunner } = await import('../../streaming/runtime/runner.ts');
  const started = Date.now();
  const group = `${topicPrefix}-stream`;
  if (options.source === 'cdc') await foldCapture(brokers, topicPrefix, group, options);
  const runner = new StreamRunner({
    domain: options.project.domain,
    brokers,
    group,
    topicPrefix,
    transforms: [...options.transforms],
    fromBeginning: true,
    untilIdleMs: (options.idleSeconds ?? 3) * 1000,
    logger: options.logger,
    onMetrics: (metrics) => options.progress(`stream: ${metrics.processed} events, ${metrics.eventsPerSecond}/s, duplicates ${metrics.duplicates}, late ${metrics.late}, dead letters ${metrics.deadLetters}`),
  });
  try {
    // An interrupted run stops it at once, during its start too (the stop waits for the start to end).
    onStop(() => runner.stop());
    await runner.start();
    await runner.done;
  } catch (error) {
    await runner.stop().catch(() => undefined);
    throw error;
  }
  if (runner.failure instanceof DualrunError) throw runner.failure;
  if (runner.failure) {
    throw new UnavailableError(`kafka ${brokers.join(',')}`, `the streaming job stopped: ${runner.failure.message}`, { cause: runner.failure, hint: 'its outputs are incomplete, so nothing was compared; see the log (DUALRUN_LOG_LEVEL=info) and run again' });
  }
  options.progress(`stream: caught up in ${seconds(started)}`);
}

/**
 * The CDC stage: every change captured so far folded into the input topics before the job starts, and
 * the stage stopped then (the replay is over: no change comes after it).
 */
async function foldCapture(brokers: string[], topicPrefix: string, group: string, options: DualRunOptions): Promise<void> {
  const { CdcBridge } = await import('../../streaming/runtime/cdc-bridge.ts');
  const started = Date.now();
  const bridge = new CdcBridge({ domain: options.project.domain, brokers, topicPrefix, group, partitions: 3, logger: options.logger });
  try {
    await bridge.start();
    await bridge.untilIdle((options.idleSeconds ?? 3) * 1000);
  } finally {
    await bridge.stop();
  }
  const figures = bridge.figures();
  options.progress(`cdc: ${figures.transactions} transactions of the legacy database folded into ${figures.events} events in ${seconds(started)}`);
}

function lastCutoff(scenario: Scenario, timeZone: string): Date {
  return cutoffFor(scenario.businessDates.at(-1)!, scenario.cutoffTime, timeZone);
}

/** Compare each transformation's batch table with its output topic, explained by the scenario's events. */
async function comparing(db: Knex, brokers: string[], topicPrefix: string, scenario: Scenario, options: DualRunOptions): Promise<Report> {
  const { compareTransforms } = await import('../../compare/index.ts');
  const watermark = lastCutoff(scenario, options.project.domain.timeZone);
  try {
    return await compareTransforms(options.transforms, {
      db,
      brokers,
      topicPrefix,
      events: scenario.events,
      watermark,
      cutoffTime: scenario.cutoffTime,
      batchDates: scenario.businessDates,
      onCompared: (result, ms) => options.progress(`compare ${result.name}: ${result.parity ? 'parity' : 'differences'} in ${(ms / 1000).toFixed(1)} s`),
    });
  } catch (error) {
    if (error instanceof DualrunError) throw error;
    throw new SinkError('duckdb', `comparing failed: ${(error as Error).message}`, { cause: error });
  }
}
