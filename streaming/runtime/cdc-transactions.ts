/**
 * Reassembles Debezium's committed transactions for the CDC bridge: a transaction's changes arrive on
 * one topic per table, its END record (with the number of changes it holds) on the transaction topic;
 * a transaction is whole once as many distinct changes as its END counts have arrived. Whole
 * transactions are given out in END order (commit order), never one before an earlier one.
 *
 * A change is told apart from the others of its transaction by its place in it (`transaction.total_order`,
 * 1 … event_count: what the END counts), not by its source position: the rows of one COPY (PostgreSQL's
 * multi-insert, one WAL record) share one LSN, so a buffer keyed by LSN kept one row of each COPY and
 * waited for the rest of the transaction for ever. A change delivered again after a Connect restart has
 * the same place (Debezium keeps a transaction's counters in its offsets) and replaces itself.
 */
import type { DebeziumChange } from '../../src/model/debezium.ts';

export interface WholeTransaction {
  /** The transaction (transactionKey of its id). */
  key: string;
  /** Offset of its END record on the transaction topic. */
  endOffset: number;
  /** Its changes in commit order; none when it was already given out (an END delivered again). */
  changes: DebeziumChange[] | undefined;
}

export class TransactionAssembler {
  /** Transaction → place in it → change. */
  private readonly buffered = new Map<string, Map<number, DebeziumChange>>();
  private readonly ends: { key: string; count: number; offset: number }[] = [];
  private readonly done = new Set<string>();

  /** Buffers the change at place `order` of transaction `key`; one of a transaction already given out is dropped. */
  addChange(key: string, order: number, change: DebeziumChange): void {
    if (this.done.has(key)) return;
    let changes = this.buffered.get(key);
    if (!changes) this.buffered.set(key, (changes = new Map()));
    changes.set(order, change);
  }

  addEnd(key: string, count: number, offset: number): void {
    this.ends.push({ key, count, offset });
  }

  /** ENDs read whose transaction is not given out yet. */
  get pending(): number {
    return this.ends.length;
  }

  /** Takes every whole transaction in END order, up to the first one still missing changes. */
  takeWhole(): WholeTransaction[] {
    const out: WholeTransaction[] = [];
    while (this.ends.length > 0) {
      const end = this.ends[0]!;
      if (this.done.has(end.key)) {
        this.ends.shift();
        out.push({ key: end.key, endOffset: end.offset, changes: undefined });
        continue;
      }
      const changes = this.buffered.get(end.key);
      if ((changes?.size ?? 0) < end.count) break; // some of its changes are still on their way
      this.ends.shift();
      this.buffered.delete(end.key);
      this.done.add(end.key);
      out.push({ key: end.key, endOffset: end.offset, changes: [...(changes?.entries() ?? [])].sort(([a], [b]) => a - b).map(([, change]) => change) });
    }
    return out;
  }
}
