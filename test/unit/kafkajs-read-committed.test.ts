// The read_committed filter that replaces kafkajs' own: a fetch that starts inside two aborted
// transactions must drop both producers' records (kafkajs 2.2.4 let the second one's first record through).
import { describe, expect, it } from 'vitest';
import { filterAbortedMessages } from '../../src/kafkajs-read-committed.ts';

const record = (offset: number, producerId: string, inTransaction = true) => ({ offset: String(offset), key: Buffer.from('k'), isControlRecord: false, batchContext: { producerId, inTransaction } });
const abortMarker = (offset: number, producerId: string) => ({ offset: String(offset), key: Buffer.from([0, 0, 0, 0]), isControlRecord: true, batchContext: { producerId, inTransaction: true } });

describe('filterAbortedMessages', () => {
  it('drops every aborted transaction open at the first record, keeps committed ones and records after the abort marker', () => {
    const messages = [record(10, 'B'), record(11, 'A'), record(12, 'C'), abortMarker(13, 'A'), record(14, 'A'), record(15, 'B'), abortMarker(16, 'B'), record(17, 'B', false)];
    const kept = filterAbortedMessages({ messages, abortedTransactions: [{ producerId: 'B', firstOffset: '6' }, { producerId: 'A', firstOffset: '5' }] });
    expect(kept.map((message) => message.offset)).toEqual(['12', '13', '14', '16', '17']);
  });

  it('keeps everything when nothing was aborted', () => {
    const messages = [record(1, 'A'), record(2, 'B')];
    expect(filterAbortedMessages({ messages, abortedTransactions: [] })).toEqual(messages);
  });
});
