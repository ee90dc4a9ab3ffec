// Replay's own choice of a keyed message's partition: the one kafkajs' DefaultPartitioner (Java's
// default) makes, for any key (ASCII, multi-byte text, bytes) and partition count.
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionOfKey } from '../../src/kafka-partition.ts';

const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer | string) => number;
const key = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 30 }), fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)));

describe('partitionOfKey', () => {
  it('hashes as kafkajs (and Kafka) hash keys', () => {
    fc.assert(
      fc.property(key, (each) => {
        expect(murmur2(each)).toBe(kafkajsMurmur2(each) | 0);
      }),
      { numRuns: 2000 },
    );
    // Kafka's own test vector (org.apache.kafka.common.utils.UtilsTest#testMurmur2), and a multi-byte key.
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2('ü')).toBe(murmur2(Buffer.from('ü')));
  });

  it('picks the partition kafkajs DefaultPartitioner picks', () => {
    const partitioner = Partitioners.DefaultPartitioner();
    fc.assert(
      fc.property(key, fc.integer({ min: 1, max: 64 }), (each, count) => {
        const partitionMetadata = Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], offlineReplicas: [], partitionErrorCode: 0 }));
        expect(partitionOfKey(each, count)).toBe(partitioner({ topic: 't', partitionMetadata, message: { key: each, value: null } }));
      }),
      { numRuns: 2000 },
    );
  });
});
