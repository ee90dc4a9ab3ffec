/**
 * What one chapter runs in, and cleans up after: a database of its own (created on the server `--db`
 * names and dropped afterwards; a temporary PGlite folder without one), a topic prefix of its own (its
 * topics deleted afterwards, its consumer groups too), the shop, and the source-load meter on that
 * database. It also starts streaming jobs and reads topics for the chapters — through dynamic imports
 * only, as the CLI reaches the runners (DESIGN.md section 3).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { connectKnex, engineOf, redactUrl, type Engine } from '../../db.ts';
import { DualrunError, UnavailableError, messageOf } from '../../errors.ts';
import { createKafka, fetchTopicOffsets } from '../../kafka-client.ts';
import type { Logger } from '../../logger.ts';
import { decode, topicOf } from '../../model/codec.ts';
import type { DomainEvent } from '../../model/events.ts';
import { replay, type ReplaySummary } from '../../replay/replay.ts';
import { createDomainSchema, domainTables } from '../../replay/schema.ts';
import type { ScenarioEvent } from '../../scenario/load.ts';
import type { Transform } from '../../transforms/contract.ts';
import type { RunMetrics, StreamRunner } from '../../../streaming/runtime/runner.ts';
import type { Shop } from './shop-day.ts';
import { SourceMeter } from './source-load.ts';

export interface TeachEnvironment {
  /** The database server chapters make their databases on; undefined: embedded PGlite. */
  dbUrl: string | undefined;
  brokers: string[];
  shop: Shop;
  logger: Logger;
  /** knex: count rows the jobs' queries returned instead of reading the database's statistics. */
  statistics?: 'database' | 'knex';
  /** Where `dualrun cdc` keeps Kafka Connect and Debezium (chapter 5's capture); default the environment's. */
  cacheDir?: string;
  /** An existing Kafka Connect cluster for chapter 5's capture; default CONNECT_URL, else a local worker. */
  connectUrl?: string | undefined;
}

/** Input topics are made with one partition: the chapters' data is small, and fewer partitions start faster. */
const PARTITIONS = 1;

export class Workspace {
  private readonly cleanups: (() => Promise<void>)[] = [];
  private readonly groups = new Set<string>();
  /** What runs against the topics now (stream jobs, consumers, replays): stopped or awaited before they are deleted, or a client would create them again. */
  private readonly running = new Set<() => Promise<unknown>>();
  private constructor(
    readonly chapter: number,
    readonly env: TeachEnvironment,
    readonly url: string,
    readonly engine: Engine,
    readonly databaseName: string,
    readonly prefix: string,
    readonly meter: SourceMeter,
  ) {}

  static async open(chapter: number, env: TeachEnvironment): Promise<Workspace> {
    const suffix = randomUUID().replaceAll('-', '').slice(0, 8);
    const name = `dualrun_teach_${chapter}_${suffix}`;
    const cleanups: (() => Promise<void>)[] = [];
    let url: string;
    if (env.dbUrl === undefined || engineOf(env.dbUrl) === 'pglite') {
      const dir = await mkdtemp(join(tmpdir(), `dualrun-teach-${chapter}-`));
      url = `pglite:${dir}`;
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
    } else {
      const engine = engineOf(env.dbUrl);
      const admin = await connectKnex(env.dbUrl);
      try {
        await admin.raw(`CREATE DATABASE ${name}`);
      } catch (error) {
        await admin.destroy();
        throw new UnavailableError(`database ${redactUrl(env.dbUrl)}`, `cannot create the chapter's database ${name}: ${messageOf(error)}`, {
          cause: error,
          hint: 'each chapter makes a database of its own and drops it afterwards: give --db a user allowed to CREATE DATABASE, or leave --db out for embedded PGlite',
        });
      }
      cleanups.push(async () => {
        try {
          await admin.raw(engine === 'postgres' ? `DROP DATABASE IF EXISTS ${name} WITH (FORCE)` : `DROP DATABASE IF EXISTS ${name}`);
        } finally {
          await admin.destroy();
        }
      });
      const parsed = new URL(env.dbUrl);
      parsed.pathname = `/${name}`;
      url = parsed.toString();
    }
    const engine = engineOf(url);
    const meter = await SourceMeter.open(url, engine, domainTables(env.shop.domain).map((table) => table.name), env.statistics ? { statistics: env.statistics } : {}).catch(async (error: unknown) => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
      throw error;
    });
    const workspace = new Workspace(chapter, env, url, engine, engine === 'pglite' ? url.slice('pglite:'.length) : name, `teach${chapter}-${suffix}`, meter);
    workspace.cleanups.push(...cleanups);
    try {
      await meter.use((db) => createDomainSchema(db, env.shop.domain));
    } catch (error) {
      await workspace.close();
      throw error;
    }
    return workspace;
  }

  get domain() {
    return this.env.shop.domain;
  }

  /** The input topic of a shop entity. */
  topic(entity: string): string {
    return topicOf(this.domain.entity(entity)!, this.prefix);
  }

  /** Once the chapter is closing (it ended, or was interrupted), nothing new starts on its topics. */
  private ensureOpen(): void {
    if (this.closing) throw new DualrunError('INTERRUPTED', `chapter ${this.chapter} was stopped`, { hint: 'its database and topics are being removed; run it again' });
  }

  /**
   * Replays events into the chapter's database and/or topics (after/until as `dualrun replay` takes them).
   * batchSize 1 writes each event in a transaction of its own, as the legacy application commits (by
   * default a batch's changes to one row are folded into one write, which a log-based capture would show).
   */
  async replay(events: ScenarioEvent[], options: { db?: boolean; kafka?: boolean; after?: Date; until?: Date; batchSize?: number } = {}): Promise<ReplaySummary> {
    this.ensureOpen();
    const into = { db: options.db ?? true, kafka: options.kafka ?? true };
    const run = (db: Parameters<typeof replay>[0]['db']) =>
      replay({
        domain: this.domain,
        events,
        ...(db ? { db } : {}),
        ...(into.kafka ? { kafka: { brokers: this.env.brokers, topicPrefix: this.prefix, partitions: PARTITIONS } } : {}),
        ...(options.after ? { after: options.after } : {}),
        ...(options.until ? { until: options.until } : {}),
        ...(options.batchSize ? { batchSize: options.batchSize } : {}),
        logger: this.env.logger,
      });
    const replaying = into.db ? this.meter.use((db) => run(db)) : run(undefined);
    return this.whileRunning(() => replaying.catch(() => undefined), replaying);
  }

  /** Keeps `stop` to be called on close while `work` runs. */
  async whileRunning<T>(stop: () => Promise<unknown>, work: Promise<T>): Promise<T> {
    this.running.add(stop);
    try {
      return await work;
    } finally {
      this.running.delete(stop);
    }
  }

  /** Keeps `stop` to be called on close until the returned function is called. */
  track(stop: () => Promise<unknown>): () => void {
    this.running.add(stop);
    return () => this.running.delete(stop);
  }

  /** ANALYZE the source tables, so the batch's plans do not change between two measured runs. */
  async analyze(): Promise<void> {
    const tables = domainTables(this.domain).map((table) => table.name);
    await this.meter.use(async (db) => {
      if (this.engine === 'mysql') await db.raw(`ANALYZE TABLE ${tables.join(', ')}`);
      else await db.raw(`ANALYZE ${tables.join(', ')}`);
    });
  }

  /** Starts a streaming job of `transforms` in consumer group `group`, reading the chapter's topics from the beginning. */
  async stream(group: string, transforms: readonly Transform[], options: { untilIdleMs?: number } = {}): Promise<StreamJob> {
    this.ensureOpen();
    const { StreamRunner } = await import('../../../streaming/runtime/runner.ts');
    this.ensureOpen();
    const full = `${this.prefix}-${group}`;
    this.groups.add(full);
    const runner = new StreamRunner({
      domain: this.domain,
      brokers: this.env.brokers,
      group: full,
      topicPrefix: this.prefix,
      transforms: [...transforms],
      fromBeginning: true,
      partitions: PARTITIONS,
      logger: this.env.logger,
      metricsIntervalMs: 60_000,
      ...(options.untilIdleMs !== undefined ? { untilIdleMs: options.untilIdleMs } : {}),
    });
    // Tracked before it starts: interrupted during the group join, close() stops it before deleting the
    // topics, else its consumer and producers would create them again.
    const untrack = this.track(() => runner.stop());
    void runner.done.then(untrack);
    try {
      await runner.start();
    } catch (error) {
      await runner.stop().catch(() => undefined);
      throw error;
    }
    const job = new StreamJob(runner, full);
    return job;
  }

  /** Messages on the chapter's input topics now (what the producers have written). */
  async inputOffsets(): Promise<number> {
    this.ensureOpen();
    return this.withAdmin(async (admin) => {
      let total = 0;
      for (const entity of this.domain.entities) for (const { high, low } of await fetchTopicOffsets(admin, topicOf(entity, this.prefix))) total += Number(high) - Number(low);
      return total;
    });
  }

  /** Every event on an entity's input topic, decoded, in log order, with its arrival time. */
  async eventsOn(entity: string): Promise<{ key: string; event: DomainEvent; arrival: string; tombstone: boolean }[]> {
    const model = this.domain.entity(entity)!;
    const messages = await this.readTopic(topicOf(model, this.prefix));
    return messages.map((message) => {
      const decoded = decode(this.domain, model, message);
      if (!decoded.ok) throw new Error(`an event on ${topicOf(model, this.prefix)} does not decode: ${decoded.reason}`);
      return { key: message.key!.toString(), event: decoded.event, arrival: decoded.arrival, tombstone: message.value === null };
    });
  }

  /** A compacted output topic's final value per key. */
  async finalValues(transform: string): Promise<Map<string, Record<string, unknown>>> {
    const values = new Map<string, Record<string, unknown>>();
    for (const message of await this.readTopic(`${this.prefix}.out.${transform}`)) {
      const key = message.key!.toString();
      if (message.value === null) values.delete(key);
      else values.set(key, JSON.parse(message.value.toString()) as Record<string, unknown>);
    }
    return values;
  }

  /** Every message on a topic of the chapter's, in log order. */
  messagesOn(topic: string) {
    return this.readTopic(topic);
  }

  private async readTopic(topic: string) {
    this.ensureOpen();
    const { readToEnd } = await import('../../../streaming/runtime/reader.ts');
    const kafka = createKafka({ clientId: 'dualrun-teach-reader', brokers: this.env.brokers });
    return this.withAdmin(async (admin) => {
      const partitions = new Set((await fetchTopicOffsets(admin, topic)).map(({ partition }) => partition));
      const messages: Parameters<Parameters<typeof readToEnd>[4]>[1][] = [];
      await readToEnd(kafka, admin, topic, partitions, (_partition, message) => messages.push(message), `${this.prefix}-teach`);
      return messages;
    });
  }

  async withAdmin<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = createKafka({ clientId: 'dualrun-teach-admin', brokers: this.env.brokers }).admin();
    await admin.connect();
    try {
      return await work(admin);
    } finally {
      await admin.disconnect();
    }
  }

  private closing: Promise<void> | undefined;

  /** Deletes the chapter's topics and consumer groups and drops its database; a second call waits for the first. */
  close(): Promise<void> {
    this.closing ??= this.removeAll();
    return this.closing;
  }

  private async removeAll(): Promise<void> {
    const problems: unknown[] = [];
    // Interrupted, something may still run: stopped first, or it would create the deleted topics again.
    for (const stop of [...this.running]) await stop().catch((error: unknown) => problems.push(error));
    this.running.clear();
    await this.meter.close().catch((error: unknown) => problems.push(error));
    await this.withAdmin(async (admin) => {
      // A client that was mid-request when it stopped may still create a topic: look again until none is left.
      for (let pass = 0; pass < 5; pass += 1) {
        const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(`${this.prefix}.`));
        if (topics.length === 0) break;
        await admin.deleteTopics({ topics, timeout: 30_000 }).catch((error: unknown) => this.env.logger.info({ error: messageOf(error) }, 'teach: deleting topics'));
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      const groups = (await admin.listGroups()).groups.map((group) => group.groupId).filter((id) => this.groups.has(id) || id.includes(this.prefix));
      if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
    }).catch((error: unknown) => problems.push(error));
    for (const cleanup of this.cleanups.splice(0).reverse()) await cleanup().catch((error: unknown) => problems.push(error));
    if (problems.length > 0) this.env.logger.warn({ problems: problems.map(messageOf) }, 'teach: cleaning up a chapter failed in part');
  }
}

/** A running streaming job and what it has done. */
export class StreamJob {
  constructor(
    readonly runner: StreamRunner,
    readonly group: string,
  ) {}

  metrics(): RunMetrics {
    return this.runner.metrics();
  }

  /** Until the job has committed at least `events` input events (it counts a batch once it committed it). */
  async waitProcessed(events: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.runner.metrics().processed < events) {
      if (this.runner.failure) throw this.runner.failure;
      if (Date.now() > deadline) throw new Error(`the streaming job ${this.group} processed ${this.runner.metrics().processed} of ${events} events in ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Until it stopped by itself (untilIdleMs). */
  async done(): Promise<RunMetrics> {
    await this.runner.done;
    if (this.runner.failure) throw this.runner.failure;
    return this.runner.metrics();
  }

  async stop(): Promise<RunMetrics> {
    await this.runner.stop();
    return this.runner.metrics();
  }
}
