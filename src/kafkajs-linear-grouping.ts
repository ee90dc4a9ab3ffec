/**
 * A fix for kafkajs 2.2.4's producer, installed before kafkajs loads. `groupMessagesPerPartition`
 * copies a partition's whole message array for every message it adds (`[...current, message]`), so
 * a `sendBatch` costs time quadratic in the messages per partition: with the thousands of records a
 * streaming transaction or a replay batch sends, it was the largest single cost in the producer's
 * profile. The replacement groups the same messages, in the same order, in one pass.
 *
 * Import through src/kafkajs-fixes.ts, before anything imports 'kafkajs'.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const groupingPath = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');
const sendMessagesPath = require.resolve('kafkajs/src/producer/sendMessages.js');

interface PartitionMetadata {
  partitionId: number;
}
type Partitioner<Message> = (args: { topic: string; partitionMetadata: PartitionMetadata[]; message: Message }) => number;

export function groupMessagesPerPartition<Message>({ topic, partitionMetadata, messages, partitioner }: { topic: string; partitionMetadata: PartitionMetadata[]; messages: Message[]; partitioner: Partitioner<Message> }): Record<number, Message[]> {
  const grouped: Record<number, Message[]> = {};
  if (partitionMetadata.length === 0) return grouped;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (grouped[partition] ??= []).push(message);
  }
  return grouped;
}

const alreadyLoaded = require.cache[sendMessagesPath] !== undefined;
require(groupingPath);
require.cache[groupingPath]!.exports = groupMessagesPerPartition;

/** True when kafkajs' producer uses the linear grouping (false if kafkajs was loaded before this module). */
export function linearGroupingActive(): boolean {
  return !alreadyLoaded;
}
