// The producer's per-partition grouping that replaces kafkajs' quadratic one: the same groups, in
// input order, and the module kafkajs' producer requires is ours.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { groupMessagesPerPartition } from '../../src/kafkajs-linear-grouping.ts';

const partitionMetadata = [0, 1, 2].map((partitionId) => ({ partitionId }));
const byKey = ({ message }: { message: { key: string } }) => Number(message.key) % 3;

describe('groupMessagesPerPartition', () => {
  it('groups messages by the partitioner, keeping their order within each partition', () => {
    const messages = [5, 1, 4, 2, 0, 3, 7].map((n) => ({ key: String(n) }));
    expect(groupMessagesPerPartition({ topic: 't', partitionMetadata, messages, partitioner: byKey })).toEqual({
      0: [{ key: '0' }, { key: '3' }],
      1: [{ key: '1' }, { key: '4' }, { key: '7' }],
      2: [{ key: '5' }, { key: '2' }],
    });
  });

  it('returns no groups for a topic without partition metadata, as kafkajs does', () => {
    expect(groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages: [{ key: '1' }], partitioner: byKey })).toEqual({});
  });

  it('is the function kafkajs producer code loads', () => {
    const require = createRequire(import.meta.url);
    expect(require('kafkajs/src/producer/groupMessagesPerPartition.js')).toBe(groupMessagesPerPartition);
  });
});
