/**
 * The CDC stage in front of the streaming job (`dualrun stream run --source cdc`): reads Debezium's
 * change topics (`<prefix>.cdc.<table>`) and its transaction topic, waits until each committed
 * transaction is whole (its END record counts its changes, which arrive on several topics), folds it
 * into the domain's events (src/model/cdc.ts: child rows into their parent, the declared event types)
 * and writes them to the domain's input topics, where the job reads them as it reads dualrun's own.
 * Which transactions are whole is cdc-transactions.ts's to say (by each change's place in its
 * transaction: the rows of one COPY share their source position).
 *
 * Exactly-once in effect, as the job is on at-least-once input: a transaction's events are written, then
 * the transaction topic's offset is committed (in a Kafka transaction of offsets alone; one bridge per
 * prefix and group); a crash in between writes
 * them again with the same event ids (from the source positions), which the job's dedupe absorbs. Not a
 * Kafka transaction: the job's readers wait for the input topics' end offsets, which a commit marker at
 * the end of a partition never reaches (their `stream run --until-idle` did not stop). Transactions are folded in END order
 * (the transaction topic has one partition: commit order). The fold's state is not stored: a start
 * reads the change topics from the beginning and folds again, silently, every transaction whose END is
 * below the committed offset — deterministic, so it rebuilds exactly the state that was committed.
 * Debezium is at-least-once: a change or END delivered again after a Connect crash is recognised by its
 * transaction (already folded) and dropped; a redelivered snapshot row gives the same event id.
 */
import '../../src/kafkajs-fixes.ts';
import { randomUUID } from 'node:crypto';
import { Partitioners, type Admin, type Consumer, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from '../../src/logger.ts';
import { ChangeFolder } from '../../src/model/cdc.ts';
import { toMessage, topicOf } from '../../src/model/codec.ts';
import { readDebeziumChange, transactionKey, type DebeziumChange } from '../../src/model/debezium.ts';
import type { DomainModel } from '../../src/model/domain.ts';
import { domainTables } from '../../src/replay/schema.ts';
import { createKafka, createTopicsAndWait, fetchTopicOffsets, retryConcurrentTransactions } from '../../src/kafka-client.ts';
import { DLQ_HEADERS } from '../tasks/model.ts';
import { TransactionAssembler } from './cdc-transactions.ts';
import { keepForever } from './topics.ts';

export interface CdcBridgeOptions {
  domain: DomainModel;
  brokers: string[];
  topicPrefix: string;
  /** The job's group: the bridge commits under `<group>-cdc`. */
  group: string;
  /** Partitions of the input topics it creates. */
  partitions: number;
  logger: Logger;
}

export interface CdcBridgeSummary {
  transactions: number;
  events: number;
  deadLetters: number;
}

export const changeTopics = (domain: DomainModel, prefix: string): string[] => domainTables(domain).map((table) => `${prefix}.cdc.${table.name}`);
export const transactionTopic = (prefix: string): string => `${prefix}.cdc.transaction`;

/**
 * The group's committed offsets, retried briefly: on a broker where no group has committed yet, the
 * offsets topic is created by this very request and the broker answers NOT_COORDINATOR (retriable) for
 * a moment; kafkajs' admin does not retry it (a fresh broker's first `stream run --source cdc` failed).
 */
async function committedOffsets(admin: Admin, groupId: string, topics: string[]): Promise<Awaited<ReturnType<Admin['fetchOffsets']>>> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await admin.fetchOffsets({ groupId, topics });
    } catch (error) {
      if (attempt >= 20 || (error as { retriable?: boolean }).retriable !== true) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250 * Math.min(attempt, 4)));
    }
  }
}

export class CdcBridge {
  private readonly kafka: Kafka;
  private readonly folder: ChangeFolder;
  private readonly transactions = new TransactionAssembler();
  private readonly consumed = new Map<string, number>();
  private committed = new Map<string, number>();
  private consumer: Consumer | undefined;
  private producer: Producer | undefined;
  private offsets: Producer | undefined;
  private readonly summary: CdcBridgeSummary = { transactions: 0, events: 0, deadLetters: 0 };
  private lastMessageAt = Date.now();
  failure: Error | undefined;

  constructor(private readonly options: CdcBridgeOptions) {
    this.kafka = createKafka({ clientId: `dualrun-cdc-bridge-${randomUUID().slice(0, 6)}`, brokers: options.brokers });
    this.folder = new ChangeFolder(options.domain);
  }

  private get groupId(): string {
    return `${this.options.group}-cdc`;
  }

  async start(): Promise<void> {
    const { domain, topicPrefix, partitions } = this.options;
    const admin = this.kafka.admin();
    await admin.connect();
    const sources = [...changeTopics(domain, topicPrefix), transactionTopic(topicPrefix)];
    try {
      const existing = new Set(await admin.listTopics());
      // The transaction topic in one partition: END records in commit order.
      await createTopicsAndWait(admin, [
        ...sources.filter((topic) => !existing.has(topic)).map((topic) => ({ topic, numPartitions: topic === transactionTopic(topicPrefix) ? 1 : partitions, configEntries: keepForever })),
        ...domain.entities.map((entity) => topicOf(entity, topicPrefix)).filter((topic) => !existing.has(topic)).map((topic) => ({ topic, numPartitions: partitions, configEntries: keepForever })),
      ]);
      for (const { topic, partitions: list } of await committedOffsets(admin, this.groupId, sources)) {
        for (const { partition, offset } of list) if (Number(offset) >= 0) this.committed.set(`${topic}/${partition}`, Number(offset));
      }
    } finally {
      await admin.disconnect();
    }
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await this.producer.connect();
    this.offsets = this.kafka.producer({ transactionalId: `dualrun-${this.groupId}-${topicPrefix}-offsets`, idempotent: true, maxInFlightRequests: 1 });
    await this.offsets.connect();
    // A reader of its own, from the beginning every time: the fold is rebuilt, then goes on.
    // A short fetch wait: most change partitions are empty most of the time, and a fetch waits for them.
    // Never restarted once stopping: kafkajs restarts a consumer that crashed (a fetch failing as it
    // stops, on a loaded machine) on a timer, and one restarted after stop() ran kept the process alive.
    this.consumer = this.kafka.consumer({ groupId: `dualrun-cdc-reader-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 250, retry: { retries: 5, restartOnFailure: async () => !this.stopping } });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: sources, fromBeginning: true });
    // A batch that fails (the broker gone, a write refused) stops the stage for good: say so, never hang.
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      this.failure = payload.error;
      this.options.logger.error({ error: payload.error }, 'the CDC stage stopped');
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        this.lastMessageAt = Date.now();
        for (const message of batch.messages) this.take(batch.topic, batch.partition, message);
        await this.drain();
        // Counted as read only once its events are written: untilIdle must not return while a drain
        // is still sending (a job started then could join a reading to a table event not yet written).
        this.consumed.set(`${batch.topic}/${batch.partition}`, Number(batch.lastOffset()) + 1);
        this.lastMessageAt = Date.now();
        await heartbeat();
      },
    });
  }

  private take(topic: string, partition: number, message: { key: Buffer | null; value: Buffer | null; offset: string }): void {
    if (message.value === null) return; // a tombstone: Kafka's compaction marker after a delete
    const offset = Number(message.offset);
    let value: unknown;
    try {
      value = JSON.parse(message.value.toString('utf8'));
    } catch (error) {
      this.deadLetters.push(this.deadLetter(topic, partition, message, `malformed JSON: ${(error as Error).message}`));
      return;
    }
    if (topic === transactionTopic(this.options.topicPrefix)) {
      const record = value as { status?: unknown; id?: unknown; event_count?: unknown };
      if (record.status === 'END' && typeof record.id === 'string') this.transactions.addEnd(transactionKey(record.id), Number(record.event_count ?? 0), offset);
      return;
    }
    const read = readDebeziumChange(value);
    if (!read.ok) {
      this.deadLetters.push(this.deadLetter(topic, partition, message, read.reason));
      return;
    }
    const change = read.change;
    if (change.transaction === undefined || change.order === undefined) {
      // A snapshot row belongs to no transaction: folded on its own. Written again on every start, with
      // the same event id (its table, key and position), which the job's dedupe absorbs.
      this.snapshotRows.push({ change, silent: false });
      return;
    }
    // One of a transaction already folded (delivered again after a Connect restart) is dropped there.
    this.transactions.addChange(transactionKey(change.transaction), change.order, change);
  }

  private readonly deadLetters: { topic: string; key: string; value: string | null; headers: Record<string, string> }[] = [];
  private readonly snapshotRows: { change: DebeziumChange; silent: boolean }[] = [];

  private deadLetter(topic: string, partition: number, message: { key: Buffer | null; value: Buffer | null; offset: string }, reason: string): { topic: string; key: string; value: string | null; headers: Record<string, string> } {
    return { topic: `${topic}.dlq`, key: message.key?.toString() ?? '', value: message.value?.toString('utf8') ?? null, headers: { [DLQ_HEADERS.reason]: reason, [DLQ_HEADERS.topic]: topic, [DLQ_HEADERS.partition]: String(partition), [DLQ_HEADERS.offset]: message.offset } };
  }

  /** Folds every whole transaction in END order, writes its events, then commits how far it got. */
  private async drain(): Promise<void> {
    const { topicPrefix } = this.options;
    const out: { topic: string; key: string; value: string | null; headers: Record<string, string>; timestamp?: string }[] = this.deadLetters.splice(0);
    const txCommitted = this.committed.get(`${transactionTopic(topicPrefix)}/0`) ?? 0;
    for (const { change, silent } of this.snapshotRows.splice(0)) this.fold([change], silent, out);
    let endOffset: number | undefined;
    for (const whole of this.transactions.takeWhole()) {
      endOffset = whole.endOffset;
      if (!whole.changes) continue; // its END delivered again
      this.fold(whole.changes, whole.endOffset < txCommitted, out);
      this.summary.transactions += 1;
    }
    if (out.length === 0 && endOffset === undefined) return;
    const byTopic = new Map<string, { key: string; value: string | null; headers: Record<string, string>; timestamp?: string }[]>();
    for (const { topic, ...message } of out) {
      if (!byTopic.has(topic)) byTopic.set(topic, []);
      byTopic.get(topic)!.push(message);
    }
    if (byTopic.size > 0) await this.producer!.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    // Only once the events are written: a crash in between writes them again, with the same ids.
    if (endOffset !== undefined) {
      const id = `${transactionTopic(topicPrefix)}/0`;
      const offset = Math.max(endOffset + 1, this.committed.get(id) ?? 0);
      // A transaction of offsets only: no commit marker lands on an input topic. (admin.setOffsets joins
      // the group for a moment; a bridge killed then left a member that refused the next start's commit.)
      await retryConcurrentTransactions(async () => {
        const commit = await this.offsets!.transaction();
        try {
          await commit.sendOffsets({ consumerGroupId: this.groupId, topics: [{ topic: transactionTopic(topicPrefix), partitions: [{ partition: 0, offset: String(offset) }] }] });
          await commit.commit();
        } catch (error) {
          await commit.abort().catch(() => undefined);
          throw error;
        }
      });
      this.committed.set(id, offset);
    }
  }

  private fold(changes: DebeziumChange[], silent: boolean, out: { topic: string; key: string; value: string | null; headers: Record<string, string>; timestamp?: string }[]): void {
    const { deliveries, problems } = this.folder.applyTransaction(changes);
    if (silent) return;
    for (const problem of problems) {
      this.options.logger.warn({ table: problem.change.table, position: problem.change.position }, problem.reason);
      this.summary.deadLetters += 1;
    }
    for (const delivery of deliveries) {
      const { entity, message } = toMessage(this.options.domain, delivery);
      out.push({ topic: topicOf(entity, this.options.topicPrefix), ...message });
      this.summary.events += 1;
    }
  }

  /** Resolves once everything in the change topics is folded and nothing new arrived for `idleMs`. */
  async untilIdle(idleMs: number): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      for (;;) {
        if (this.failure) throw this.failure;
        await new Promise((resolve) => setTimeout(resolve, 500));
        if (Date.now() - this.lastMessageAt < idleMs || this.transactions.pending > 0) continue;
        let caughtUp = true;
        for (const topic of [...changeTopics(this.options.domain, this.options.topicPrefix), transactionTopic(this.options.topicPrefix)]) {
          for (const { partition, high } of await fetchTopicOffsets(admin, topic)) {
            if (Number(high) > (this.consumed.get(`${topic}/${partition}`) ?? 0)) caughtUp = false;
          }
        }
        if (caughtUp) return;
      }
    } finally {
      await admin.disconnect();
    }
  }

  figures(): CdcBridgeSummary {
    return { ...this.summary };
  }

  private stopping = false;

  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer?.disconnect().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
    await this.offsets?.disconnect().catch(() => undefined);
  }
}
