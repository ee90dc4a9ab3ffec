// The producer's record encoder that replaces kafkajs' five-buffer one: byte for byte what kafkajs
// writes, for every shape of record (no key, tombstone, multi-byte text, repeated headers, big deltas),
// readable by kafkajs' own decoder, and the module kafkajs' produce request requires is ours.
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeRecord, kafkajsRecord } from '../../src/kafkajs-record-encoding.ts';

const require = createRequire(import.meta.url);
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => { readVarInt(): number; offset: number };
type Decoded = { key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer | Buffer[]>; offset: string; timestamp: string };
const decodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/decoder.js') as (decoder: unknown, context: object) => Decoded;

const bytes = (encoder: { buf: Buffer; offset: number }) => Buffer.from(encoder.buf.subarray(0, encoder.offset));
const text = fc.string({ unit: 'grapheme', maxLength: 300 });
const content = fc.oneof(fc.constant(null), text, text.map((value) => Buffer.from(value)));
const record = fc.record({
  offsetDelta: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  timestampDelta: fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
  key: content,
  value: content,
  headers: fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), fc.oneof(text, fc.array(text, { minLength: 1, maxLength: 3 }))),
});

describe('encodeRecord', () => {
  it('writes the bytes kafkajs writes', () => {
    fc.assert(
      fc.property(record, (args) => {
        expect(bytes(encodeRecord(args)).equals(bytes(kafkajsRecord(args)))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('gives a record kafkajs decodes back to its fields', () => {
    const value = JSON.stringify({ eventId: 'e-1', type: 'OrderPlaced', payload: { note: 'Ünïcødé ✓' } });
    const headers = { 'dualrun-event-id': 'e-1', 'dualrun-type': 'OrderPlaced', many: ['a', 'b'] };
    const encoded = bytes(encodeRecord({ offsetDelta: 7, timestampDelta: 86_400_000, key: 'o1', value, headers }));
    const decoder = new Decoder(encoded);
    expect(decoder.readVarInt()).toBe(encoded.length - decoder.offset); // the record's length, read first as the batch decoder does
    const decoded = decodeRecord(decoder, { firstOffset: '100', firstTimestamp: '1700000000000' });
    expect(decoded.key?.toString()).toBe('o1');
    expect(decoded.value?.toString()).toBe(value);
    expect(decoded.offset).toBe('107');
    expect(decoded.timestamp).toBe(String(1_700_000_000_000 + 86_400_000));
    expect(decoded.headers['dualrun-type']?.toString()).toBe('OrderPlaced');
    expect((decoded.headers.many as Buffer[]).map(String)).toEqual(['a', 'b']);
    expect(decoder.offset).toBe(encoded.length);
  });

  it('is the function kafkajs produce requests load', () => {
    expect(require('kafkajs/src/protocol/recordBatch/record/v0/index.js')).toBe(encodeRecord);
  });
});
