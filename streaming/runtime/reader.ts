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

/** Reads `topic` from the beginning to its current end once, handing over the wanted partitions' messages. */
export async function readToEnd(kafka: Kafka, admin: Admin, topic: string, partitions: ReadonlySet<number>, onMessage: (partition: number, message: RawMessage & { offset: string }) => void, groupPrefix: string): Promise<number> {
  let count = 0;
  const reader = new TopicReader(
    kafka,
    admin,
    [topic],
    (_topic, partition, messages) => {
      if (!partitions.has(partition)) return;
      for (const message of messages) {
        onMessage(partition, message);
        count += 1;
      }
    },
    groupPrefix,
  );
  await reader.start();
  try {
    await reader.catchUp();
  } finally {
    await reader.stop();
  }
  return count;
}
