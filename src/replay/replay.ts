/**
 * Replay: walks a scenario's events once, in arrival order, feeding both worlds the same business facts —
 * the legacy database (changed in place, a batch of events per transaction) and the Kafka input topics
 * (a batch of messages per send). Database and Kafka work of one batch run side by side. `after`/`until`
 * select the events with arrival time in (after, until], so the nightly simulation can step to each
 * cut-off; a run with `after` continues an earlier one and does not ask for empty targets.
 */
import type { Knex } from 'knex';
import type { Engine } from '../db.ts';
import type { ScenarioEvent } from '../scenario/load.ts';
import { SinkError, messageOf } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import type { DomainModel } from '../model/domain.ts';
import { emptyDatabaseCounts, engineOfKnex, executeBatch, planBatch, prepareBatch, prepareDatabase, remember, type BatchPlan, type DatabaseCounts, type ReplayMemory, type Statement } from './database.ts';
import type { KafkaTarget, Publisher } from './kafka.ts';

export interface ReplayOptions {
  domain: DomainModel;
  events: ScenarioEvent[];
  db?: Knex;
  kafka?: KafkaTarget;
  /** Replay events that arrived at or before this instant. */
  until?: Date;
  /** Replay events that arrived after this instant (a continuation of an earlier run). */
  after?: Date;
  /** Empty the legacy tables and recreate the topics first. */
  reset?: boolean;
  /** Create the domain's missing legacy tables (a fresh database). */
  createSchema?: boolean;
  logger?: Logger;
  onProgress?: (done: number, total: number) => void;
  /** Events per database transaction and per Kafka send (default 5000). */
  batchSize?: number;
  /** At most this many events per second: a steady load, as a live application writes, instead of all at once. */
  rate?: number;
}

export interface ReplaySummary {
  /** Events in the window, redeliveries included. */
  events: number;
  redeliveries: number;
  /** Events outside (after, until], left for another step. */
  outside: number;
  firstArrival: string | undefined;
  lastArrival: string | undefined;
  database: DatabaseCounts | undefined;
  /** Messages per topic. */
  kafka: Record<string, { messages: number; tombstones: number }> | undefined;
  seconds: number;
}

export const DEFAULT_BATCH_SIZE = 5000;

export async function replay(options: ReplayOptions): Promise<ReplaySummary> {
  const started = process.hrtime.bigint();
  const logger = options.logger ?? silentLogger;
  const reset = options.reset ?? false;
  const continuing = options.after !== undefined;
  const after = options.after?.toISOString();
  const until = options.until?.toISOString();
  const selected = options.events.filter((event) => (after === undefined || event.arrivalTime > after) && (until === undefined || event.arrivalTime <= until));
  const { domain } = options;

  const engine = options.db ? engineOfKnex(options.db) : undefined;
  if (options.db) await prepareDatabase(options.db, domain, { reset, continuing, createSchema: options.createSchema ?? false });
  // A continued replay folds the events before its window first: patches and arrival-time columns build on them.
  const memory: ReplayMemory = new Map();
  if (options.db && after !== undefined) remember(domain, memory, options.events.filter((event) => event.arrivalTime <= after));
  let publisher: Publisher | undefined;
  if (options.kafka) {
    // Loaded only when asked for, so a database-only replay never loads kafkajs.
    const { openPublisher } = await import('./kafka.ts');
    publisher = await openPublisher(domain, options.kafka, { reset, continuing, logger });
  }
  const database = options.db ? emptyDatabaseCounts(domain) : undefined;
  try {
    const size = options.batchSize ?? DEFAULT_BATCH_SIZE;
    options.onProgress?.(0, selected.length);
    // Batch n's transaction runs while batch n+1 is folded and encoded and batch n goes to Kafka;
    // batches still commit strictly in order (each waits for the previous), so the end state is the
    // sequential one. The folding and encoding pause now and then, so batch n's statements go on
    // meanwhile: each is a round trip its result must be read for before the next one is sent.
    let applying: Promise<void> | undefined;
    for (let start = 0; start < selected.length; start += size) {
      const batch = selected.slice(start, start + size);
      const statements = engine && database ? await prepare(domain, engine, memory, batch, database) : undefined;
      if (applying) await applying;
      applying = statements && options.db && engine && database ? applyToDatabase(options.db, engine, statements, database, batch[0]!) : undefined;
      // Handled when awaited; until then a failure must not count as unhandled.
      applying?.catch(() => undefined);
      await publisher?.publish(batch);
      options.onProgress?.(Math.min(start + size, selected.length), selected.length);
      if (options.rate !== undefined) await keepPace(started, start + batch.length, options.rate);
    }
    if (applying) await applying;
  } finally {
    await publisher?.close();
  }
  const summary: ReplaySummary = {
    events: selected.length,
    redeliveries: selected.filter((event) => event.redelivery).length,
    outside: options.events.length - selected.length,
    firstArrival: selected[0]?.arrivalTime,
    lastArrival: selected[selected.length - 1]?.arrivalTime,
    database,
    kafka: publisher?.counts,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
  logger.info({ events: summary.events, seconds: summary.seconds }, 'replay done');
  return summary;
}

/** Waits until `done` events are no more than `rate` per second since `started`. */
async function keepPace(started: bigint, done: number, rate: number): Promise<void> {
  const ahead = (done / rate) * 1000 - Number(process.hrtime.bigint() - started) / 1e6;
  if (ahead > 0) await new Promise((resolve) => setTimeout(resolve, ahead));
}

/** Events folded between two pauses: a few milliseconds of work at most. */
const FOLD_SLICE = 200;

/**
 * A pause that lets pending I/O run when the work since the last one took over a millisecond (the
 * time a statement's result may wait to be read), and costs nothing otherwise.
 */
function pacer(): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < 1) return;
    await new Promise((resolve) => setImmediate(resolve));
    since = performance.now();
  };
}

/** A batch folded into `memory` and encoded as its statements, pausing now and then. */
async function prepare(domain: DomainModel, engine: Engine, memory: ReplayMemory, batch: ScenarioEvent[], counts: DatabaseCounts): Promise<Statement[]> {
  const pause = pacer();
  const plan: BatchPlan = new Map();
  for (let start = 0; start < batch.length; start += FOLD_SLICE) {
    planBatch(domain, memory, batch.slice(start, start + FOLD_SLICE), counts, plan);
    await pause();
  }
  return prepareBatch(engine, plan, pause);
}

async function applyToDatabase(db: Knex, engine: Engine, statements: Statement[], counts: DatabaseCounts, first: ScenarioEvent): Promise<void> {
  try {
    await db.transaction((trx) => executeBatch(trx, statements, counts));
  } catch (error) {
    // A refusal of our own (a stored row gone) knows its table and its fix: kept, not covered over.
    const own = error instanceof SinkError ? error : undefined;
    throw new SinkError(own?.table ?? 'legacy tables', `applying the batch of events from ${first.source.file}:${first.source.line} (arrival ${first.arrivalTime}) on ${engine} failed and was rolled back: ${messageOf(error)}`, {
      cause: error,
      hint: `${own?.hint ? `${own.hint}; ` : ''}earlier batches stay applied; rerun with --reset to start over`,
    });
  }
}
