/**
 * A fix for kafkajs 2.2.4's read_committed filtering, installed before kafkajs loads. Its
 * `filterAbortedMessages` activates at most one aborted transaction per message, so when a fetch
 * starts inside several aborted transactions (interleaved producers — one per task here — and a
 * killed job's open transaction aborted by its successor), records of aborted transactions leak to
 * read_committed consumers. Seen in the kill -9 test: the late topic read back with kafkajs held one
 * aborted batch twice, while Kafka's own console consumer (read_committed) read it exactly once.
 * The replacement is Java's rule: every aborted transaction whose first offset is at or before the
 * record is active for its producer until that producer's abort marker.
 *
 * Import this module before anything imports 'kafkajs': bin/dualrun.js, src/index.ts, src/kafka-client.ts,
 * the streaming modules and the test setup (test/support/setup.ts) do;
 * `readCommittedFixActive()` says whether it took effect.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const filterPath = require.resolve('kafkajs/src/consumer/filterAbortedMessages.js');
const batchPath = require.resolve('kafkajs/src/consumer/batch.js');
const Long = require('kafkajs/src/utils/long.js') as { fromValue(value: unknown): { gte(other: unknown): boolean; compare(other: unknown): number } };
const ABORT_MARKER_KEY = Buffer.from([0, 0, 0, 0]);

interface Message {
  offset: string;
  key: Buffer | null;
  isControlRecord?: boolean;
  batchContext: { producerId: string; inTransaction: boolean };
}
interface AbortedTransaction {
  producerId: string;
  firstOffset: string;
}

export function filterAbortedMessages({ messages, abortedTransactions }: { messages: Message[]; abortedTransactions?: AbortedTransaction[] }): Message[] {
  if (!abortedTransactions || abortedTransactions.length === 0) return messages;
  const pending = [...abortedTransactions].sort((a, b) => Long.fromValue(a.firstOffset).compare(Long.fromValue(b.firstOffset)));
  const aborted = new Set<string>();
  return messages.filter((message) => {
    while (pending.length > 0 && Long.fromValue(message.offset).gte(pending[0]!.firstOffset)) aborted.add(String(pending.shift()!.producerId));
    const producerId = String(message.batchContext.producerId);
    if (message.isControlRecord === true && message.key && Buffer.from(message.key).equals(ABORT_MARKER_KEY)) {
      aborted.delete(producerId);
      return true;
    }
    return !(message.batchContext.inTransaction && aborted.has(producerId));
  });
}

const alreadyLoaded = require.cache[batchPath] !== undefined;
require(filterPath);
require.cache[filterPath]!.exports = filterAbortedMessages;

/** True when kafkajs' consumer uses the fixed filter (false if kafkajs was loaded before this module). */
export function readCommittedFixActive(): boolean {
  return !alreadyLoaded;
}
