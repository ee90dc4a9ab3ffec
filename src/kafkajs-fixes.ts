/**
 * The fixes dualrun applies to kafkajs 2.2.4, installed before kafkajs loads: import this module
 * before anything imports 'kafkajs' (bin/dualrun.js, src/index.ts, src/kafka-client.ts, the streaming
 * modules, the test setup and the benchmarks do).
 *  - read_committed consumers no longer see records of aborted transactions (kafkajs-read-committed.ts);
 *  - the producer groups a batch's messages per partition in linear time (kafkajs-linear-grouping.ts);
 *  - the producer encodes each record into one buffer of its exact size (kafkajs-record-encoding.ts);
 *  - the producer writes a whole uncompressed produce request in one pass into one buffer of its
 *    exact size (kafkajs-produce-encoding.ts; after the record fix, which must patch the record module
 *    before kafkajs' produce request loads it).
 */
import { readCommittedFixActive } from './kafkajs-read-committed.ts';
import { linearGroupingActive } from './kafkajs-linear-grouping.ts';
import { recordEncodingActive } from './kafkajs-record-encoding.ts';
import { produceEncodingActive } from './kafkajs-produce-encoding.ts';

/** The fixes that did not take effect because kafkajs was loaded first (empty when all did). */
export function inactiveKafkajsFixes(): string[] {
  return [...(readCommittedFixActive() ? [] : ['read_committed filter']), ...(linearGroupingActive() ? [] : ['linear producer grouping']), ...(recordEncodingActive() ? [] : ['exact-size record encoding']), ...(produceEncodingActive() ? [] : ['one-pass produce encoding'])];
}
