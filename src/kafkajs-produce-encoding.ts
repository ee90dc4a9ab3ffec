/**
 * A fix for kafkajs 2.2.4's produce request (v3, which v4–v7 reuse), installed before kafkajs loads.
 * kafkajs builds a request from nested Encoders: each record in a buffer of its own, each varint a
 * Buffer.from([...]) of its bytes, each 64-bit varint through its BigInt Long class, the record batch
 * copied into the partition's, into the topic's, into the request's (four copies of every byte, most
 * through power-of-two buffers grown by doubling), a CRC-32C one byte per loop turn, and it sorts a
 * batch's timestamps (as strings) to find the first and the last. Profiled, that was half of a replay's
 * CPU in Node (the rest: our JSON, garbage collection). The replacement writes the same bytes in one
 * pass into one buffer of the request's exact size: record sizes first, then every field in place,
 * the CRC-32C eight bytes per turn (slice-by-8), the first and last timestamp by comparison.
 * Compressed produce requests keep kafkajs' own encoder. The one deliberate difference: kafkajs'
 * string sort took the wrong first/last timestamp when timestamps differ in digit count (before 2001);
 * this takes the numeric ones.
 *
 * Import through src/kafkajs-fixes.ts, before anything imports 'kafkajs'.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const producePath = require.resolve('kafkajs/src/protocol/requests/produce/v3/request.js');
const alreadyLoaded = require.cache[producePath] !== undefined;

type Bytes = Buffer | string | null | undefined;
interface ProduceMessage {
  key?: Bytes;
  value: Bytes;
  timestamp?: string | number | null;
  headers?: Record<string, Bytes | Bytes[]>;
}
interface PartitionData {
  partition: number;
  firstSequence?: number;
  messages: ProduceMessage[];
}
interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: { topic: string; partitions: PartitionData[] }[];
}
interface ProduceRequest {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  expectResponse: () => boolean;
  encode: () => Promise<unknown>;
}

/** kafkajs' own produce v3 request, for compressed requests and for the test that checks both write the same bytes. */
export const kafkajsProduceRequest = require(producePath) as (args: ProduceArgs) => ProduceRequest;
const Encoder = require('kafkajs/src/protocol/encoder.js') as { prototype: object };
const Long = require('kafkajs/src/utils/long.js') as { fromValue(value: unknown): { value: bigint } };

// The fixed part of a record batch before its records: base offset 8, length 4, leader epoch 4, magic 1,
// CRC 4, attributes 2, last offset delta 4, first and max timestamp 8 + 8, producer id 8, epoch 2,
// first sequence 4, record count 4.
const BATCH_HEADER = 61;
/** Where the CRC-covered part of a batch starts (its attributes), from the batch's start. */
const CRC_FROM = 21;
const TRANSACTIONAL = 16;

/** Bytes of a zigzag varint of a 32-bit value. */
function sizeOfVarInt(value: number): number {
  let encoded = ((value << 1) ^ (value >> 31)) >>> 0;
  let bytes = 1;
  while (encoded >= 0x80) {
    bytes += 1;
    encoded >>>= 7;
  }
  return bytes;
}

/** A zigzag varint of a 64-bit value given as a safe integer (a timestamp delta): its unsigned form. */
function zigzag64(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

function sizeOfUnsigned(value: number): number {
  let bytes = 1;
  while (value >= 0x80) {
    bytes += 1;
    value = Math.floor(value / 128);
  }
  return bytes;
}

const byteLength = (value: Bytes): number => (value == null ? -1 : Buffer.isBuffer(value) ? value.length : Buffer.byteLength(String(value)));
const sizeOfBytes = (length: number): number => (length < 0 ? 1 : sizeOfVarInt(length) + length);

/** A message's headers: how many (an array value is one header per element) and their encoded size. */
function sizeOfHeaders(headers: ProduceMessage['headers']): { count: number; size: number } {
  let count = 0;
  let size = 0;
  if (headers) {
    for (const name of Object.keys(headers)) {
      const header = headers[name];
      const nameSize = sizeOfBytes(Buffer.byteLength(name));
      if (Array.isArray(header)) {
        for (const each of header) size += nameSize + sizeOfBytes(byteLength(each));
        count += header.length;
      } else {
        size += nameSize + sizeOfBytes(byteLength(header));
        count += 1;
      }
    }
  }
  return { count, size: size + sizeOfVarInt(count) };
}

/** Buffer#utf8Write (what Buffer#write calls for 'utf8', without its argument checks), where Node has it. */
const utf8Write = (Buffer.prototype as unknown as { utf8Write?: (text: string, offset: number, length: number) => number }).utf8Write;

/** One produce request's bytes, written by offset into a buffer of its exact size. */
class Writer {
  offset = 0;
  constructor(readonly buf: Buffer) {}

  int8(value: number): void {
    this.buf[this.offset++] = value;
  }
  int16(value: number): void {
    this.buf.writeInt16BE(value, this.offset);
    this.offset += 2;
  }
  int32(value: number): void {
    this.buf.writeInt32BE(value, this.offset);
    this.offset += 4;
  }
  int64(value: bigint): void {
    this.buf.writeBigInt64BE(value, this.offset);
    this.offset += 8;
  }
  unsigned(value: number): void {
    while (value >= 0x80) {
      this.buf[this.offset++] = (value & 0x7f) | 0x80;
      value = value > 0xffffffff ? Math.floor(value / 128) : value >>> 7;
    }
    this.buf[this.offset++] = value;
  }
  varInt(value: number): void {
    this.unsigned(((value << 1) ^ (value >> 31)) >>> 0);
  }
  string(value: string | null | undefined): void {
    if (value == null) return this.int16(-1);
    const length = Buffer.byteLength(value);
    this.int16(length);
    this.offset += this.buf.write(value, this.offset, length, 'utf8');
  }
  /** Varint-length bytes whose length is known. */
  bytes(value: Bytes, length: number): void {
    this.varInt(length);
    if (length <= 0) return;
    if (Buffer.isBuffer(value)) this.offset += value.copy(this.buf, this.offset);
    else if (utf8Write) this.offset += utf8Write.call(this.buf, typeof value === 'string' ? value : String(value), this.offset, length);
    else this.offset += this.buf.write(String(value), this.offset, length, 'utf8');
  }
  headers(headers: ProduceMessage['headers'], count: number): void {
    this.varInt(count);
    if (!headers) return;
    for (const name of Object.keys(headers)) {
      const header = headers[name];
      const nameLength = Buffer.byteLength(name);
      if (!Array.isArray(header)) {
        this.bytes(name, nameLength);
        this.bytes(header, byteLength(header));
        continue;
      }
      for (const each of header) {
        this.bytes(name, nameLength);
        this.bytes(each, byteLength(each));
      }
    }
  }
}

interface PlannedPartition {
  data: PartitionData;
  /** Per message: its record's body size, key length, value length, header count. */
  sizes: Int32Array;
  firstTimestamp: number;
  maxTimestamp: number;
  now: number;
  /** The record batch's size (after its 8-byte base offset and 4-byte length). */
  batchSize: number;
}

function planPartition(data: PartitionData): PlannedPartition {
  const { messages } = data;
  const now = Date.now();
  let first = Infinity;
  let max = -Infinity;
  for (const message of messages) {
    if (message.timestamp == null) continue;
    const timestamp = Number(message.timestamp);
    if (timestamp < first) first = timestamp;
    if (timestamp > max) max = timestamp;
  }
  if (first === Infinity) first = max = now;
  const sizes = new Int32Array(messages.length * 4);
  let records = 0;
  for (let index = 0; index < messages.length; index += 1) {
    const message = messages[index]!;
    const keyLength = byteLength(message.key);
    const valueLength = byteLength(message.value);
    const headers = sizeOfHeaders(message.headers);
    const timestampDelta = (message.timestamp ? Number(message.timestamp) : now) - first;
    const body = 1 + sizeOfUnsigned(zigzag64(timestampDelta)) + sizeOfVarInt(index) + sizeOfBytes(keyLength) + sizeOfBytes(valueLength) + headers.size;
    sizes[index * 4] = body;
    sizes[index * 4 + 1] = keyLength;
    sizes[index * 4 + 2] = valueLength;
    sizes[index * 4 + 3] = headers.count;
    records += sizeOfVarInt(body) + body;
  }
  return { data, sizes, firstTimestamp: first, maxTimestamp: max, now, batchSize: BATCH_HEADER - 12 + records };
}

function writeBatch(writer: Writer, plan: PlannedPartition, args: ProduceArgs): void {
  const { messages, firstSequence = 0 } = plan.data;
  const start = writer.offset;
  writer.int64(0n); // base offset
  writer.int32(plan.batchSize);
  writer.int32(0); // partition leader epoch
  writer.int8(2); // magic
  const crcAt = writer.offset;
  writer.offset += 4;
  writer.int16(args.transactionalId ? TRANSACTIONAL : 0);
  writer.int32(messages.length - 1);
  writer.int64(BigInt(plan.firstTimestamp));
  writer.int64(BigInt(plan.maxTimestamp));
  writer.int64(Long.fromValue(args.producerId ?? -1).value);
  writer.int16(args.producerEpoch ?? 0);
  writer.int32(firstSequence);
  writer.int32(messages.length);
  const { sizes } = plan;
  for (let index = 0; index < messages.length; index += 1) {
    const message = messages[index]!;
    writer.varInt(sizes[index * 4]!);
    writer.int8(0); // record attributes
    writer.unsigned(zigzag64((message.timestamp ? Number(message.timestamp) : plan.now) - plan.firstTimestamp));
    writer.varInt(index);
    writer.bytes(message.key, sizes[index * 4 + 1]!);
    writer.bytes(message.value, sizes[index * 4 + 2]!);
    writer.headers(message.headers, sizes[index * 4 + 3]!);
  }
  if (writer.offset - start !== 12 + plan.batchSize) throw new Error(`produce encoding wrote ${writer.offset - start} bytes of a ${12 + plan.batchSize}-byte batch (a bug in src/kafkajs-produce-encoding.ts)`);
  writer.buf.writeUInt32BE(crc32c(writer.buf, start + CRC_FROM, writer.offset), crcAt);
}

/** The request body kafkajs' v3 encoder writes, as one kafkajs Encoder over an exact-size buffer. */
export function encodeProduce(args: ProduceArgs): object {
  const topics = args.topicData.map(({ topic, partitions }) => ({ topic, partitions: partitions.map(planPartition) }));
  let size = (args.transactionalId == null ? 2 : 2 + Buffer.byteLength(args.transactionalId)) + 2 + 4 + 4;
  for (const { topic, partitions } of topics) {
    size += 2 + Buffer.byteLength(topic) + 4;
    for (const plan of partitions) size += 4 + 4 + 12 + plan.batchSize;
  }
  const writer = new Writer(Buffer.allocUnsafe(size));
  writer.string(args.transactionalId);
  writer.int16(args.acks);
  writer.int32(args.timeout);
  writer.int32(topics.length);
  for (const { topic, partitions } of topics) {
    writer.string(topic);
    writer.int32(partitions.length);
    for (const plan of partitions) {
      writer.int32(plan.data.partition);
      writer.int32(12 + plan.batchSize);
      writeBatch(writer, plan, args);
    }
  }
  if (writer.offset !== size) throw new Error(`produce encoding wrote ${writer.offset} bytes of ${size} (a bug in src/kafkajs-produce-encoding.ts)`);
  const encoder = Object.create(Encoder.prototype) as { buf: Buffer; offset: number };
  encoder.buf = writer.buf;
  encoder.offset = size;
  return encoder;
}

function produceRequest(args: ProduceArgs): ProduceRequest {
  const request = kafkajsProduceRequest(args);
  // kafkajs' Types.None is 0.
  if ((args.compression ?? 0) !== 0) return request;
  return { ...request, encode: () => Promise.resolve(encodeProduce(args)) };
}

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), slice-by-8: eight tables, eight bytes a turn.
const TABLES = (() => {
  const tables = Array.from({ length: 8 }, () => new Int32Array(256));
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    tables[0]![n] = c;
  }
  for (let n = 0; n < 256; n += 1) for (let t = 1; t < 8; t += 1) tables[t]![n] = (tables[t - 1]![n]! >>> 8) ^ tables[0]![tables[t - 1]![n]! & 0xff]!;
  return tables;
})();

export function crc32c(buf: Buffer, start = 0, end = buf.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES as [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];
  let crc = -1;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    crc ^= buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    crc = t7[crc & 0xff]! ^ t6[(crc >>> 8) & 0xff]! ^ t5[(crc >>> 16) & 0xff]! ^ t4[crc >>> 24]! ^ t3[buf[i + 4]!]! ^ t2[buf[i + 5]!]! ^ t1[buf[i + 6]!]! ^ t0[buf[i + 7]!]!;
  }
  for (; i < end; i += 1) crc = t0[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

require.cache[producePath]!.exports = produceRequest;

/** True when kafkajs' producer uses this encoder (false if kafkajs was loaded before this module). */
export function produceEncodingActive(): boolean {
  return !alreadyLoaded;
}
