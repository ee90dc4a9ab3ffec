// The CDC bridge's reassembly of committed transactions from Debezium's change and transaction topics,
// in particular a transaction written by COPY: PostgreSQL logs a COPY's rows as one multi-insert WAL
// record, so Debezium gives every row of it the same source LSN (seen on a real server: test_decoding
// shows three COPYed rows at one LSN, two INSERTed rows at two). Keyed by LSN, such a transaction never
// looked whole and the bridge waited for it for ever.
import { describe, expect, it } from 'vitest';
import { ChangeFolder } from '../../src/model/cdc.ts';
import type { DebeziumChange } from '../../src/model/debezium.ts';
import { shop } from '../../src/domains/shop/index.ts';
import { TransactionAssembler } from '../../streaming/runtime/cdc-transactions.ts';

const order = (id: string) => ({ order_id: id, customer_id: 'C1', currency: 'EUR', placed_at: '2024-06-03T07:15:00.000000Z', status: 'placed', created_at: '2024-06-03T07:16:00.000Z', updated_at: '2024-06-03T07:16:00.000Z' });
const line = (id: string, lineNo: number) => ({ order_id: id, line_no: lineNo, product_id: 'P1', quantity: 1, unit_price: '20.00', discount_pct: '0.00' });

function change(table: string, image: Record<string, unknown>, lsn: number, order: number, transaction = '741'): DebeziumChange {
  return { op: 'c', image, table, position: `lsn:${lsn}`, committedAt: '2024-06-03T07:16:00.000Z', transaction, order };
}

/** One transaction that COPYs two orders (one LSN) and their three lines (another LSN). */
const copied = [change('orders', order('O1'), 500, 1), change('orders', order('O2'), 500, 2), change('order_lines', line('O1', 1), 620, 3), change('order_lines', line('O1', 2), 620, 4), change('order_lines', line('O2', 1), 620, 5)];

describe('TransactionAssembler', () => {
  it('a COPYed transaction (rows sharing an LSN) is whole once all the changes its END counts are in', () => {
    const assembler = new TransactionAssembler();
    assembler.addEnd('741', copied.length, 7);
    for (const each of copied.slice(0, 4)) assembler.addChange('741', each.order!, each);
    expect(assembler.takeWhole()).toEqual([]);
    assembler.addChange('741', copied[4]!.order!, copied[4]!);
    const [whole, ...rest] = assembler.takeWhole();
    expect(rest).toEqual([]);
    expect(whole!.endOffset).toBe(7);
    expect(whole!.changes).toEqual(copied);
    expect(assembler.pending).toBe(0);

    // Folded, the COPY is two OrderPlaced with their lines, with ids of their own despite the shared LSN.
    const { deliveries, problems } = new ChangeFolder(shop).applyTransaction(whole!.changes!);
    expect(problems).toEqual([]);
    expect(deliveries.map((d) => [d.event.type, d.event.payload.orderId, (d.event.payload.lines as unknown[]).length])).toEqual([['OrderPlaced', 'O1', 2], ['OrderPlaced', 'O2', 1]]);
    expect(new Set(deliveries.map((d) => d.event.eventId)).size).toBe(2);
  });

  it('gives transactions out in END order, never one before an earlier that is not whole', () => {
    const assembler = new TransactionAssembler();
    assembler.addEnd('1', 2, 0);
    assembler.addEnd('2', 1, 1);
    assembler.addChange('2', 1, change('orders', order('O9'), 900, 1, '2'));
    assembler.addChange('1', 1, change('orders', order('O1'), 100, 1, '1'));
    expect(assembler.takeWhole()).toEqual([]);
    expect(assembler.pending).toBe(2);
    assembler.addChange('1', 2, change('order_lines', line('O1', 1), 100, 2, '1'));
    expect(assembler.takeWhole().map((whole) => [whole.key, whole.endOffset, whole.changes?.length])).toEqual([['1', 0, 2], ['2', 1, 1]]);
  });

  it('a change delivered again (same place) counts once; one of a transaction given out, or its END again, adds nothing', () => {
    const assembler = new TransactionAssembler();
    assembler.addEnd('741', copied.length, 7);
    for (const each of [...copied.slice(0, 3), ...copied.slice(0, 3)]) assembler.addChange('741', each.order!, each);
    expect(assembler.takeWhole()).toEqual([]);
    for (const each of copied.slice(3)) assembler.addChange('741', each.order!, each);
    expect(assembler.takeWhole()[0]!.changes).toHaveLength(copied.length);
    // After a Connect restart: the transaction's changes and END once more.
    for (const each of copied) assembler.addChange('741', each.order!, each);
    assembler.addEnd('741', copied.length, 9);
    expect(assembler.takeWhole()).toEqual([{ key: '741', endOffset: 9, changes: undefined }]);
  });
});
