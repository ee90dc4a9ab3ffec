// The one-pass produce request encoder that replaces kafkajs' nested one: byte for byte what kafkajs
// writes (several topics and partitions, transactional or not, no key, tombstones, multi-byte text,
// repeated headers, Buffers), a CRC-32C equal to kafkajs' on any bytes, a batch kafkajs' own decoder
// reads back, and the module kafkajs' producer loads is ours.
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { crc32c, encodeProduce, kafkajsProduceRequest } from '../../src/kafkajs-produce-encoding.ts';

const require = createRequire(import.meta.url);
const kafkajsCrc = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (buffer: Buffer) => number;
const Long = require('kafkajs/src/utils/long.js') as { fromValue(value: unknown): unknown };
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => { readString(): string; readInt16(): number; readInt32(): number; readBytes(): Buffer; offset: number };
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (decoder: unknown) => Promise<{ records: { key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer | Buffer[]>; offset: string; timestamp: string }[]; firstTimestamp: string; maxTimestamp: string; inTransaction: boolean; producerId: string; firstSequence: number }>;

const bytes = (encoder: unknown) => {
  const { buf, offset } = encoder as { buf: Buffer; offset: number };
  return Buffer.from(buf.subarray(0, offset));
};
const text = fc.string({ unit: 'grapheme', maxLength: 200 });
const content = fc.oneof(fc.constant(null), text, text.map((value) => Buffer.from(value)));
// Thirteen digits, as every timestamp since 2001 (kafkajs sorts them as strings).
const timestamp = fc.integer({ min: 1_000_000_000_000, max: 9_999_999_999_999 });
const message = fc.record({
  key: content,
  value: content,
  timestamp: fc.oneof(timestamp, timestamp.map(String)),
  headers: fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), fc.oneof(text, fc.array(text, { minLength: 1, maxLength: 3 }))),
});
const partition = fc.record({ partition: fc.integer({ min: 0, max: 99 }), firstSequence: fc.integer({ min: 0, max: 2 ** 31 - 1 }), messages: fc.array(message, { minLength: 1, maxLength: 20 }) });
const request = fc.record({
  acks: fc.constantFrom(-1, 1),
  timeout: fc.integer({ min: 0, max: 60_000 }),
  transactionalId: fc.oneof(fc.constant(null), fc.string({ minLength: 1, maxLength: 30 })),
  producerId: fc.integer({ min: -1, max: 2 ** 40 }).map((id) => Long.fromValue(id)),
  producerEpoch: fc.integer({ min: 0, max: 32_000 }),
  topicData: fc.array(fc.record({ topic: fc.string({ minLength: 1, maxLength: 40 }), partitions: fc.array(partition, { minLength: 1, maxLength: 4 }) }), { minLength: 1, maxLength: 3 }),
});

describe('encodeProduce', () => {
  it('writes the bytes kafkajs writes', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (args) => {
        expect(bytes(encodeProduce(args)).equals(bytes(await kafkajsProduceRequest(args).encode()))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('messages without a timestamp get the time of encoding, as with kafkajs', async () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_717_000_000_000);
    try {
      const args = { acks: -1, timeout: 30_000, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [{ key: 'a', value: 'x' }, { key: 'b', value: 'y', timestamp: '1716000000000' }] }] }] };
      expect(bytes(encodeProduce(args)).equals(bytes(await kafkajsProduceRequest(args).encode()))).toBe(true);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('gives a record batch kafkajs decodes back to its records, with the first and the last timestamp', async () => {
    const value = JSON.stringify({ eventId: 'e-1', payload: { note: 'Ünïcødé ✓' } });
    const args = {
      acks: -1,
      timeout: 30_000,
      transactionalId: 'tx-1',
      producerId: Long.fromValue(4242),
      producerEpoch: 3,
      topicData: [{ topic: 'shop.orders', partitions: [{ partition: 2, firstSequence: 17, messages: [
        { key: 'o2', value, timestamp: '1700000000500', headers: { 'dualrun-type': 'OrderPlaced', many: ['a', 'b'] } },
        { key: 'o1', value: null, timestamp: '1700000000000' },
      ] }] }],
    };
    const decoder = new Decoder(bytes(encodeProduce(args)));
    expect(decoder.readString()).toBe('tx-1');
    expect(decoder.readInt16()).toBe(-1);
    expect(decoder.readInt32()).toBe(30_000);
    expect(decoder.readInt32()).toBe(1);
    expect(decoder.readString()).toBe('shop.orders');
    expect(decoder.readInt32()).toBe(1);
    expect(decoder.readInt32()).toBe(2);
    const batch = await decodeBatch(new Decoder(decoder.readBytes()));
    expect(batch).toMatchObject({ firstTimestamp: '1700000000000', maxTimestamp: '1700000000500', inTransaction: true, producerId: '4242', firstSequence: 17 });
    expect(batch.records.map((record) => [record.key?.toString(), record.value?.toString() ?? null, record.offset, record.timestamp])).toEqual([
      ['o2', value, '0', '1700000000500'],
      ['o1', null, '1', '1700000000000'],
    ]);
    expect((batch.records[0]!.headers.many as Buffer[]).map(String)).toEqual(['a', 'b']);
  });

  it('computes the CRC-32C kafkajs computes, on any bytes and any range', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(40), (array, cut) => {
        const buffer = Buffer.from(array);
        const start = Math.min(cut, buffer.length);
        expect(crc32c(buffer, start)).toBe(kafkajsCrc(buffer.subarray(start)));
      }),
      { numRuns: 500 },
    );
  });

  it('is the produce request kafkajs loads', () => {
    const loaded = require('kafkajs/src/protocol/requests/produce/v3/request.js') as unknown;
    expect(loaded).not.toBe(kafkajsProduceRequest);
    const v7 = (require('kafkajs/src/protocol/requests/produce/v7/request.js') as (args: object) => { apiVersion: number; encode(): Promise<unknown> })({ acks: -1, timeout: 1, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [{ key: 'k', value: 'v', timestamp: 1_700_000_000_000 }] }] }] });
    expect(v7.apiVersion).toBe(7);
    expect(typeof v7.encode).toBe('function');
  });
});
