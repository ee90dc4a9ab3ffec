/**
 * Reading whole topics outside the job's consumer group (kafkajs has no manual partition assignment):
 * a consumer in a throwaway group that never commits, reading from the beginning, which can say when
 * it has caught up with the topics' end offsets *as of now*. Positions are tracked from kafkajs'
 * batch events, which also fire for batches holding only transaction markers, so transactional
 * topics (changelogs) are caught up too.
 */
import '../../src/kafkajs-fixes.ts';
import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import { fetchTopicOffsets } from '../../src/kafka-client.ts';
import type { RawMessage } from '../../src/model/codec.ts';

export type OnMessages = (topic: string, partition: number, messages: (RawMessage & { offset: string })[]) => void;

export class TopicReader {
  private readonly consumer: Consumer;
  /** Next offset to read, per "topic:partition". */
  private readonly positions = new Map<string, bigint>();
  private waiters: (() => void)[] = [];
  private catchingUp: Promise<void> | undefined;

  constructor(
    kafka: Kafka,
    private readonly admin: Admin,
    private readonly topics: string[],
    private readonly onMessages: OnMessages,
    groupPrefix: string,
  ) {
    this.consumer = kafka.consumer({ groupId: `${groupPrefix}-reader-${randomUUID()}`, readUncommitted: false, maxBytes: 16 << 20, maxWaitTimeInMs: 100 });
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      this.advance(payload.topic, payload.partition, BigInt(payload.lastOffset) + 1n);
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topics, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: async ({ batch }) => {
        this.onMessages(batch.topic, batch.partition, batch.messages);
      },
    });
  }

  /** Resolves once every partition of the topics has been read up to its end offset at the time of the call. */
  catchUp(): Promise<void> {
    // Concurrent callers share one round; a caller arriving during a round starts the next one after it.
    const round = (this.catchingUp ?? Promise.resolve()).then(() => this.catchUpOnce());
    const settled: Promise<void> = round.catch(() => undefined).finally(() => {
      if (this.catchingUp === settled) this.catchingUp = undefined;
    });
    this.catchingUp = settled;
    return round;
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  private async catchUpOnce(): Promise<void> {
    const targets: [string, bigint][] = [];
    // Every topic asked at once: a source task waits for this before each batch, and one topic after
    // another was a round trip per topic (two, with the low offsets) on every batch's latency.
    const offsets = await Promise.all(this.topics.map((topic) => fetchTopicOffsets(this.admin, topic)));
    for (const [index, topic] of this.topics.entries()) {
      // A partition whose records all expired (low = high) has nothing left to read.
      for (const { partition, offset, low } of offsets[index]!) if (BigInt(low) < BigInt(offset)) targets.push([`${topic}:${partition}`, BigInt(offset)]);
    }
    const reached = () => targets.every(([id, target]) => (this.positions.get(id) ?? 0n) >= target);
    while (!reached()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private advance(topic: string, partition: number, next: bigint): void {
    const id = `${topic}:${partition}`;
    if ((this.positions.get(id) ?? -1n) < next) this.positions.set(id, next);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/**
 * Reads the wanted partitions of `topic` from the beginning once, each up to its offset in `upTo` or,
 * when it has none there, its end offset at the time of the call, handing over their messages in
 * offset order. Returns how many it handed over.
 *
 * A partition not wanted is paused the first time kafkajs hands over a batch of it, and a wanted one
 * once read up to its target: a task's restore (a partition or two of the topic, up to what the group
 * committed) neither waits for nor decodes the rest of the topic, and reads nothing past the commit
 * (the job's consumer reads that next).
 */
export async function readToEnd(kafka: Kafka, admin: Admin, topic: string, partitions: ReadonlySet<number>, onMessage: (partition: number, message: RawMessage & { offset: string }) => void, groupPrefix: string, upTo: ReadonlyMap<number, bigint> = new Map()): Promise<number> {
  const targets = new Map<number, bigint>();
  for (const { partition, offset, low } of await fetchTopicOffsets(admin, topic)) {
    if (!partitions.has(partition)) continue;
    const end = BigInt(offset);
    const bound = upTo.get(partition);
    const target = bound !== undefined && bound < end ? bound : end;
    // A partition whose records all expired (low = high) has nothing left to read.
    if (BigInt(low) < target) targets.set(partition, target);
  }
  if (targets.size === 0) return 0;
  const positions = new Map<number, bigint>();
  let reachedAll!: () => void;
  const finished = new Promise<void>((resolve) => (reachedAll = resolve));
  const consumer = kafka.consumer({ groupId: `${groupPrefix}-reader-${randomUUID()}`, readUncommitted: false, maxBytes: 16 << 20, maxWaitTimeInMs: 100 });
  // From kafkajs' batch events, which also fire for batches holding only transaction markers.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (!targets.has(payload.partition)) return;
    const next = BigInt(payload.lastOffset) + 1n;
    if ((positions.get(payload.partition) ?? -1n) < next) positions.set(payload.partition, next);
    if ([...targets].every(([partition, target]) => (positions.get(partition) ?? 0n) >= target)) reachedAll();
  });
  let count = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: async ({ batch, pause }) => {
        const target = targets.get(batch.partition);
        if (target === undefined) {
          pause();
          return;
        }
        for (const message of batch.messages) {
          if (BigInt(message.offset) >= target) {
            pause();
            return;
          }
          onMessage(batch.partition, message);
          count += 1;
        }
      },
    });
    await finished;
  } finally {
    await consumer.disconnect();
  }
  return count;
}
