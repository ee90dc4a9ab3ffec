/**
 * The partition Kafka's default partitioner (Java's, and kafkajs' DefaultPartitioner) gives a keyed
 * message: murmur2 of the key's UTF-8 bytes, made positive, modulo the partition count. Replay picks
 * partitions itself, to give each partition's messages to one producer of several (in order) — and
 * must pick the ones kafkajs would, so a continued replay and the events already in a topic agree.
 * Written with Math.imul on 32-bit integers: kafkajs' own goes through its BigInt Long class, and
 * was among the largest costs of a replay's produce path.
 */

const SEED = 0x9747b28c | 0;
const M = 0x5bd1e995;

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) of a key, as a signed 32-bit integer. */
export function murmur2(key: Buffer | string): number {
  const data = typeof key === 'string' ? (isAscii(key) ? key : Buffer.from(key)) : key;
  const at = typeof data === 'string' ? (index: number) => data.charCodeAt(index) : (index: number) => data[index]!;
  const length = data.length;
  let h = SEED ^ length;
  const length4 = length >> 2;
  for (let i = 0; i < length4; i += 1) {
    const i4 = i * 4;
    let k = at(i4) | (at(i4 + 1) << 8) | (at(i4 + 2) << 16) | (at(i4 + 3) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= at(tail + 2) << 16;
  if (rest >= 2) h ^= at(tail + 1) << 8;
  if (rest >= 1) h = Math.imul(h ^ at(tail), M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

function isAscii(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) if (text.charCodeAt(index) > 0x7f) return false;
  return true;
}

/** The partition of a keyed message among `partitions`, as the default partitioner chooses it. */
export function partitionOfKey(key: Buffer | string, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}
