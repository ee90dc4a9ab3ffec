/**
 * The optional sink: each output row upserted into `stream_<name>` (created from the contract's
 * columns when missing, primary key = the contract key), a tombstone deletes. One database transaction
 * per batch, written before the Kafka transaction commits: a batch replayed after a crash recomputes
 * the same rows, so the table converges to the output topics' final values.
 *
 * On MySQL/MariaDB two defaults would break that promise: the server's collation (utf8mb4_general_ci)
 * folds case, so keys "O1" and "o1" — distinct Kafka keys — would be one row; and TIMESTAMP converts
 * through the session time zone and stops at 2038. So tables are utf8mb4_bin, and instants are stored
 * as the batch outputs store them (batch/tables.ts): DATETIME(3) holding UTC, timestamptz(3) on PostgreSQL.
 */
import type { Knex } from 'knex';
import { connectKnex, engineOf } from '../../src/db.ts';
import { SinkError, messageOf } from '../../src/errors.ts';
import type { Column } from '../../src/transforms/contract.ts';
import type { OutRecord, StreamTransform } from '../tasks/model.ts';
import type { OutputSink } from './sink.ts';

export async function createSink(url: string, transforms: readonly StreamTransform[]): Promise<OutputSink> {
  const knex = await connectKnex(url);
  const mysql = engineOf(url) === 'mysql';
  const byTopicSuffix = new Map(transforms.map((t) => [`.out.${t.name}`, t]));
  for (const transform of transforms) {
    const table = `stream_${transform.name}`;
    if (await knex.schema.hasTable(table)) continue;
    try {
      await knex.schema.createTable(table, (builder) => {
        if (mysql) {
          builder.charset('utf8mb4');
          builder.collate('utf8mb4_bin');
        }
        for (const column of transform.columns as Column[]) addColumn(builder, column, transform.key.includes(column.name));
        builder.primary([...transform.key]);
      });
    } catch (error) {
      // Instances started together race to create it; losing that race is fine.
      if (!(await knex.schema.hasTable(table))) throw error;
    }
  }
  const toDb = (transform: StreamTransform, row: Record<string, unknown>) => {
    if (!mysql) return row;
    // MySQL/MariaDB DATETIME takes no "T…Z": store the same UTC instant as "YYYY-MM-DD HH:MM:SS.mmm".
    const copy = { ...row };
    for (const column of transform.columns as Column[]) {
      const value = copy[column.name];
      if (column.type === 'timestamp' && typeof value === 'string') copy[column.name] = value.replace('T', ' ').replace('Z', '');
    }
    return copy;
  };
  return {
    async write(records: OutRecord[]) {
      // The last record per table and key wins (a batch's records are in order), so each key is written
      // once: per table one multi-row delete and one multi-row upsert, not a round trip per row.
      const pending = new Map<StreamTransform, Map<string, string | null>>();
      for (const record of records) {
        const at = record.topic.lastIndexOf('.out.');
        const transform = at < 0 ? undefined : byTopicSuffix.get(record.topic.slice(at));
        if (!transform) continue;
        let keys = pending.get(transform);
        if (!keys) pending.set(transform, (keys = new Map()));
        keys.set(record.key, record.value);
      }
      if (pending.size === 0) return;
      let table = `stream_${[...pending.keys()][0]!.name}`;
      const rows = [...pending.values()].reduce((total, keys) => total + keys.size, 0);
      const transaction = () =>
        knex.transaction(
          async (trx) => {
            for (const [transform, keys] of pending) {
              table = `stream_${transform.name}`;
              // Key order: every transaction takes its row locks in the same order.
              const sorted = [...keys].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
              const deletes = sorted.filter(([, value]) => value === null).map(([key]) => JSON.parse(key) as (string | number)[]);
              const upserts = sorted.flatMap(([, value]) => (value === null ? [] : [toDb(transform, JSON.parse(value) as Record<string, unknown>)]));
              for (const chunk of chunked(deletes)) await trx(table).whereIn([...transform.key], chunk).delete();
              for (const chunk of chunked(upserts)) await trx(table).insert(chunk).onConflict([...transform.key]).merge();
            }
          },
          // InnoDB's default REPEATABLE READ gap-locks around the keys it deletes and upserts, so the
          // concurrent batches of different partitions deadlock on disjoint keys; READ COMMITTED does not.
          mysql ? { isolationLevel: 'read committed' } : {},
        );
      try {
        await retryConflicts(transaction);
      } catch (error) {
        throw new SinkError(table, `writing ${rows} rows (one batch, one transaction) failed: ${shortened(messageOf(error))}`, { cause: error, hint: 'check the sink database is reachable and the table matches the contract (drop it to let dualrun recreate it)' });
      }
    },
    close: () => knex.destroy(),
  };
}

/** Rows per statement: far below the 65,535 bind parameters PostgreSQL allows and MySQL's packet size. */
const ROWS_PER_STATEMENT = 500;

function chunked<T>(items: T[]): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += ROWS_PER_STATEMENT) chunks.push(items.slice(start, start + ROWS_PER_STATEMENT));
  return chunks;
}

/** Deadlocks, lock wait timeouts and serialization failures: the database rolled back; running the transaction again is safe. */
const RETRYABLE = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', '40P01', '40001']);

async function retryConflicts(run: () => Promise<void>, attempts = 5): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await run();
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (attempt >= attempts || typeof code !== 'string' || !RETRYABLE.has(code)) throw error;
      // A little jitter, so the transaction it collided with is likely done before this one retries.
      await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt * (0.5 + Math.random())));
    }
  }
}

/** A driver message prefixed with a 500-row statement is unreadable: keep its start (the statement) and end (the reason). */
function shortened(message: string): string {
  return message.length <= 600 ? message : `${message.slice(0, 200)} … ${message.slice(-400)}`;
}

function addColumn(builder: Knex.CreateTableBuilder, column: Column, isKey: boolean): void {
  const name = column.name;
  const built = (() => {
    switch (column.type) {
      case 'string':
        return builder.string(name, 128);
      case 'integer':
        return builder.bigInteger(name);
      case 'decimal':
        return builder.decimal(name, 18, column.scale ?? 2);
      case 'date':
        return builder.date(name);
      case 'timestamp':
        // timestamptz(3) on PostgreSQL: an instant, read back as one whatever the reader's TZ.
        return builder.datetime(name, { useTz: true, precision: 3 });
    }
  })();
  if (isKey || !column.nullable) built.notNullable();
  else built.nullable();
}
