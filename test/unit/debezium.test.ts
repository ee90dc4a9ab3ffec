// The Debezium change-event decoder: each encoding a connector may use, turned into the fields' pinned
// forms, and each malformed event named with what is wrong (its dead-letter reason).
import { describe, expect, it } from 'vitest';
import { decodeDebeziumValue, decodeImage, readDebeziumChange, transactionKey } from '../../src/model/debezium.ts';
import { field, optional } from '../../src/model/fields.ts';

describe('decodeDebeziumValue', () => {
  it('dates: isostring ("2024-03-31Z") and days since 1970', () => {
    expect(decodeDebeziumValue(field.date(), '2024-03-31Z')).toEqual({ ok: true, value: '2024-03-31' });
    expect(decodeDebeziumValue(field.date(), 19813)).toEqual({ ok: true, value: '2024-03-31' });
    expect(decodeDebeziumValue(field.date(), '2024-02-30Z').ok).toBe(false);
  });

  it('instants: ISO with microseconds, a zone-less DATETIME (UTC), epoch milliseconds and microseconds', () => {
    expect(decodeDebeziumValue(field.instant(), '2024-03-31T00:30:00.123000Z')).toEqual({ ok: true, value: '2024-03-31T00:30:00.123Z' });
    expect(decodeDebeziumValue(field.instant(), '2024-10-27T00:59:59.999')).toEqual({ ok: true, value: '2024-10-27T00:59:59.999Z' });
    expect(decodeDebeziumValue(field.instant(), 1711845000123)).toEqual({ ok: true, value: '2024-03-31T00:30:00.123Z' });
    expect(decodeDebeziumValue(field.instant(), 1711845000123456)).toEqual({ ok: true, value: '2024-03-31T00:30:00.123Z' });
  });

  it('decimals stay exact strings; TINYINT(1) booleans; null only where optional', () => {
    expect(decodeDebeziumValue(field.decimal(8, { precision: 18 }), '1234567890.12345678')).toEqual({ ok: true, value: '1234567890.12345678' });
    expect(decodeDebeziumValue(field.boolean(), 1)).toEqual({ ok: true, value: true });
    expect(decodeDebeziumValue(field.boolean(), 0)).toEqual({ ok: true, value: false });
    expect(decodeDebeziumValue(optional(field.text()), null)).toEqual({ ok: true, value: null });
    expect(decodeDebeziumValue(field.text(), null).ok).toBe(false);
  });
});

describe('readDebeziumChange', () => {
  const source = { ts_ms: 1711845000123, lsn: 22168984, txId: 734, table: 'orders' };

  it('c/r/u carry the after image, d the before; the position is the LSN, the commit time source.ts_ms', () => {
    const update = readDebeziumChange({ op: 'u', before: null, after: { order_id: 'o1' }, source });
    expect(update).toEqual({ ok: true, change: { op: 'u', image: { order_id: 'o1' }, position: 'lsn:22168984', committedAt: '2024-03-31T00:30:00.123Z', table: 'orders', transaction: '734', order: undefined } });
    const deleted = readDebeziumChange({ op: 'd', before: { order_id: 'o1' }, after: null, source, transaction: { id: '734:22168400' } });
    expect(deleted.ok && deleted.change.image).toEqual({ order_id: 'o1' });
    expect(deleted.ok && deleted.change.transaction).toBe('734:22168400');
  });

  it('a binlog position names file, position and row; a schema envelope is unwrapped', () => {
    const change = readDebeziumChange({ schema: {}, payload: { op: 'c', after: { id: 1 }, source: { ts_ms: 0, file: 'mysql-bin.000003', pos: 4711, row: 2, table: 't' } } });
    expect(change.ok && change.change.position).toBe('binlog:mysql-bin.000003:4711:2');
  });

  // As Debezium 3.5's MariaDB connector wrote them from a mariadbd 10.11 (a real capture, trimmed): a GTID
  // for the transaction, ts_ms in whole seconds, two rows of one DELETE in one binlog event (row 0 and 1),
  // and a snapshot row with no transaction at all.
  it('MariaDB: GTID transactions, rows of one binlog event told apart by row, snapshot rows outside any transaction', () => {
    const binlog = { version: '3.5.0.Final', connector: 'mariadb', name: 'x.cdc', ts_ms: 1796315434000, snapshot: 'false', db: 'legacy', table: 'order_lines', server_id: 1, gtid: '0-1-15', file: 'binlog.000001', pos: 5695, thread: null, query: null };
    const before = { order_id: 'o-1', line_no: 1, product_id: 'p-1', quantity: 3, unit_price: '10.50', discount_pct: '100.00' };
    const first = readDebeziumChange({ before, after: null, source: { ...binlog, row: 0 }, transaction: { id: '0-1-15', total_order: 1, data_collection_order: 1 }, op: 'd', ts_ms: 1796315434726 });
    const second = readDebeziumChange({ before: { ...before, line_no: 2 }, after: null, source: { ...binlog, row: 1 }, transaction: { id: '0-1-15', total_order: 2, data_collection_order: 2 }, op: 'd', ts_ms: 1796315434728 });
    expect(first).toEqual({ ok: true, change: { op: 'd', image: before, position: 'binlog:binlog.000001:5695:0', committedAt: '2026-12-03T16:30:34.000Z', table: 'order_lines', transaction: '0-1-15', order: 1 } });
    expect(second.ok && [second.change.position, second.change.order]).toEqual(['binlog:binlog.000001:5695:1', 2]);
    // The END record's id is the same GTID: nothing to strip, unlike PostgreSQL's "<txId>:<lsn>".
    expect(transactionKey('0-1-15')).toBe('0-1-15');
    expect(transactionKey('734:22168400')).toBe('734');
    const snapshot = readDebeziumChange({ before: null, after: { customer_id: 'c-0' }, source: { ...binlog, table: 'customers', snapshot: 'last', server_id: 0, gtid: null, pos: 3303, row: 0 }, transaction: null, op: 'r', ts_ms: 1796315433778 });
    expect(snapshot.ok && [snapshot.change.op, snapshot.change.transaction, snapshot.change.order]).toEqual(['r', undefined, undefined]);
  });

  it('MariaDB isostring values: DATETIME(3) without a fraction when it is zero, DATE with a Z, DECIMAL at its scale', () => {
    expect(decodeDebeziumValue(field.instant(), '2024-03-31T08:00:00Z')).toEqual({ ok: true, value: '2024-03-31T08:00:00.000Z' });
    expect(decodeDebeziumValue(field.instant(), '2024-03-31T00:30:00.123Z')).toEqual({ ok: true, value: '2024-03-31T00:30:00.123Z' });
    expect(decodeDebeziumValue(field.date(), '2024-03-31Z')).toEqual({ ok: true, value: '2024-03-31' });
    expect(decodeDebeziumValue(field.decimal(2), '100.00')).toEqual({ ok: true, value: '100.00' });
  });

  it('says what is wrong with a malformed event', () => {
    expect(readDebeziumChange('x')).toEqual({ ok: false, reason: expect.stringContaining('JSON object') });
    expect(readDebeziumChange({ op: 'x', after: {}, source })).toEqual({ ok: false, reason: 'op is "x", not one of c, r, u, d' });
    expect(readDebeziumChange({ op: 'c', after: null, source })).toEqual({ ok: false, reason: 'an op c event needs its after image' });
    expect(readDebeziumChange({ op: 'c', after: {}, source: { ts_ms: 1 } })).toEqual({ ok: false, reason: expect.stringContaining('no position') });
  });
});

describe('decodeImage', () => {
  const fields = [
    { name: 'orderId', field: field.id(), column: 'order_id' },
    { name: 'placedAt', field: field.instant(), column: 'placed_at' },
    { name: 'note', field: optional(field.text()), column: 'note' },
  ];

  it('maps columns to fields', () => {
    expect(decodeImage(fields, { order_id: 'o1', placed_at: '2024-03-31T00:30:00.123000Z' })).toEqual({ ok: true, row: { orderId: 'o1', placedAt: '2024-03-31T00:30:00.123Z' } });
  });

  it('names the column that does not decode, and a missing one', () => {
    expect(decodeImage(fields, { order_id: 'o1', placed_at: 'soon' })).toEqual({ ok: false, reason: 'column placed_at is "soon"; expected an ISO-8601 UTC time like 2024-10-27T01:30:00Z' });
    expect(decodeImage(fields, { order_id: 'o1' })).toEqual({ ok: false, reason: "column placed_at (field placedAt) is missing from the change event's image" });
  });
});
