// readToEnd against the real broker: a task's restore reads its own partitions only, up to the
// offset its group committed, past transaction markers and without aborted records.
import '../../src/kafkajs-fixes.ts';
import { describe, expect, it } from 'vitest';
import { readToEnd } from '../../streaming/runtime/reader.ts';
import { createTopics, uniqueTopic } from '../support/kafka.ts';
import { kafka } from '../support/stream.ts';

describe('readToEnd', () => {
  it('reads the wanted partitions, each up to its bound or its end, and none of the others', async () => {
    const topic = uniqueTopic('reader');
    await createTopics([topic], 3);
    const client = kafka();
    const plain = client.producer();
    await plain.connect();
    const transactional = client.producer({ transactionalId: `${topic}-tx`, maxInFlightRequests: 1, idempotent: true });
    await transactional.connect();
    try {
      for (const partition of [0, 1]) await plain.send({ topic, messages: [0, 1, 2, 3, 4].map((n) => ({ partition, key: `p${partition}-${n}`, value: `${n}` })) });
      // Partition 2: five committed records, then an aborted transaction and its marker at the end.
      const committed = await transactional.transaction();
      await committed.send({ topic, messages: [0, 1, 2, 3, 4].map((n) => ({ partition: 2, key: `p2-${n}`, value: `${n}` })) });
      await committed.commit();
      const aborted = await transactional.transaction();
      await aborted.send({ topic, messages: [{ partition: 2, key: 'p2-aborted', value: 'x' }] });
      await aborted.abort();
    } finally {
      await Promise.all([plain.disconnect(), transactional.disconnect()]);
    }

    const admin = client.admin();
    await admin.connect();
    try {
      const read = async (partitions: number[], upTo?: Map<number, bigint>) => {
        const seen: string[] = [];
        const count = await readToEnd(client, admin, topic, new Set(partitions), (partition, message) => seen.push(`${partition}:${message.offset}:${message.key!.toString()}`), `${topic}-test`, upTo);
        expect(count).toBe(seen.length);
        // By partition (a stable sort: each partition's own order, which must be its offsets', is kept).
        return seen.sort((a, b) => Number(a.split(':')[0]) - Number(b.split(':')[0]));
      };
      // Partition 2's records are at offsets 0–4 (its commit marker at 5, the aborted record at 6).
      expect(await read([0, 2], new Map([[2, 3n]]))).toEqual([
        ...[0, 1, 2, 3, 4].map((n) => `0:${n}:p0-${n}`),
        ...[0, 1, 2].map((n) => `2:${n}:p2-${n}`),
      ]);
      expect(await read([2])).toEqual([0, 1, 2, 3, 4].map((n) => `2:${n}:p2-${n}`));
      expect(await read([1], new Map([[1, 0n]]))).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  });
});
