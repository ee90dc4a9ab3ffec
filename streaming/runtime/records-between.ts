/**
 * How many records (not offsets) lie between two offsets of a partition, for `dualrun stream status`.
 * A transactional producer ends every transaction with a commit marker that takes an offset but is no
 * record: the job's group, caught up, has committed the offset after its last record, one short of the
 * end offset, on every partition the job writes transactionally (its partials topic). Reading the gap
 * read_committed tells the two apart: kafkajs reports a batch of markers only as a batch event.
 */
import '../../src/kafkajs-fixes.ts';
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';

export interface OffsetRange {
  topic: string;
  partition: number;
  /** First offset of the gap (the committed offset) and the end offset. */
  from: bigint;
  to: bigint;
}

const id = (topic: string, partition: number): string => `${topic}:${partition}`;

/**
 * Records in [from, to) per "topic:partition". A range not read to its end within `timeoutMs` (an open
 * transaction holds read_committed back) counts its unread offsets as records: never less than the truth.
 */
export async function recordsBetween(kafka: Kafka, ranges: readonly OffsetRange[], timeoutMs = 10_000): Promise<Map<string, number>> {
  const counts = new Map<string, number>(ranges.map((range) => [id(range.topic, range.partition), 0]));
  if (ranges.length === 0) return counts;
  const wanted = new Map(ranges.map((range) => [id(range.topic, range.partition), range]));
  const positions = new Map<string, bigint>(ranges.map((range) => [id(range.topic, range.partition), range.from]));
  const consumer = kafka.consumer({ groupId: `dualrun-status-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 100 });
  let wake: () => void = () => undefined;
  const done = () => ranges.every((range) => positions.get(id(range.topic, range.partition))! >= range.to);
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const key = id(payload.topic, payload.partition);
    const range = wanted.get(key);
    // A batch that starts at or after the end of the gap is from the first fetch (at the latest offset,
    // before the seek applies), not a reading of the gap.
    const first = payload.firstOffset as string | null; // null for a batch all compacted away
    const start = BigInt(first ?? payload.lastOffset);
    if (range && start < range.to) {
      const next = BigInt(payload.lastOffset) + 1n;
      if (next > positions.get(key)!) positions.set(key, next);
    }
    wake();
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...new Set(ranges.map((range) => range.topic))], fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const range = wanted.get(id(batch.topic, batch.partition));
        if (!range) return;
        const inRange = batch.messages.filter((message) => BigInt(message.offset) >= range.from && BigInt(message.offset) < range.to).length;
        counts.set(id(batch.topic, batch.partition), counts.get(id(batch.topic, batch.partition))! + inRange);
      },
    });
    for (const range of ranges) consumer.seek({ topic: range.topic, partition: range.partition, offset: String(range.from) });
    const deadline = Date.now() + timeoutMs;
    while (!done() && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200);
      });
    }
  } finally {
    await consumer.disconnect();
  }
  for (const range of ranges) {
    const key = id(range.topic, range.partition);
    const position = positions.get(key)!;
    if (position < range.to) counts.set(key, counts.get(key)! + Number(range.to - position));
  }
  return counts;
}
