/**
 * A fix for kafkajs 2.2.4's producer, installed before kafkajs loads. Its record encoder builds each
 * record in a fresh zero-filled 512-byte buffer, and each of the record's headers in another one, then
 * copies them together: five allocations and copies per record of ours (four headers), which made
 * garbage collection and buffer allocation the largest costs of a replay's and a streaming job's
 * produce path. The replacement writes the same bytes (the same fields, in the same order, with
 * kafkajs's own Encoder methods) into one buffer of the record's exact size.
 *
 * Import through src/kafkajs-fixes.ts, before anything imports 'kafkajs'.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const recordPath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js');
const producePath = require.resolve('kafkajs/src/protocol/requests/produce/v3/request.js');

interface KafkaEncoder {
  buf: Buffer;
  offset: number;
  writeVarInt(value: number): KafkaEncoder;
  writeVarLong(value: number): KafkaEncoder;
  writeInt8(value: number): KafkaEncoder;
  writeVarIntString(value: string): KafkaEncoder;
  writeVarIntBytes(value: Buffer | string | null | undefined): KafkaEncoder;
}
interface EncoderClass {
  prototype: KafkaEncoder;
  sizeOfVarInt(value: number): number;
  sizeOfVarLong(value: number): number;
  sizeOfVarIntBytes(value: Buffer | string | null | undefined): number;
}
type HeaderValue = Buffer | string | null;
interface RecordArgs {
  offsetDelta?: number;
  timestampDelta?: number;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, HeaderValue | HeaderValue[] | undefined>;
}

const Encoder = require('kafkajs/src/protocol/encoder.js') as EncoderClass;

const alreadyLoaded = require.cache[producePath] !== undefined;
/** kafkajs's own record encoder, kept for the test that checks both write the same bytes. */
export const kafkajsRecord = require(recordPath) as (args: RecordArgs) => KafkaEncoder;

export function encodeRecord({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }: RecordArgs): KafkaEncoder {
  const pairs: [string, HeaderValue][] = [];
  for (const name of Object.keys(headers)) {
    const header = headers[name];
    if (Array.isArray(header)) for (const each of header) pairs.push([name, each]);
    else pairs.push([name, header as HeaderValue]);
  }
  let headersSize = Encoder.sizeOfVarInt(pairs.length);
  for (const [name, header] of pairs) {
    const nameSize = Buffer.byteLength(name);
    headersSize += Encoder.sizeOfVarInt(nameSize) + nameSize + Encoder.sizeOfVarIntBytes(header);
  }
  const bodySize = 1 + Encoder.sizeOfVarLong(timestampDelta) + Encoder.sizeOfVarInt(offsetDelta) + Encoder.sizeOfVarIntBytes(key) + Encoder.sizeOfVarIntBytes(value) + headersSize;
  // An Encoder over a buffer of exactly the record's size (allocUnsafe: every byte is written below).
  const encoder = Object.create(Encoder.prototype) as KafkaEncoder;
  encoder.buf = Buffer.allocUnsafe(Encoder.sizeOfVarInt(bodySize) + bodySize);
  encoder.offset = 0;
  encoder.writeVarInt(bodySize).writeInt8(0).writeVarLong(timestampDelta).writeVarInt(offsetDelta).writeVarIntBytes(key).writeVarIntBytes(value).writeVarInt(pairs.length);
  for (const [name, header] of pairs) encoder.writeVarIntString(name).writeVarIntBytes(header);
  if (encoder.offset !== encoder.buf.length) throw new Error(`record encoding wrote ${encoder.offset} bytes of ${encoder.buf.length} (a bug in src/kafkajs-record-encoding.ts)`);
  return encoder;
}

require.cache[recordPath]!.exports = encodeRecord;

/** True when kafkajs' producer uses this encoder (false if kafkajs was loaded before this module). */
export function recordEncodingActive(): boolean {
  return !alreadyLoaded;
}
