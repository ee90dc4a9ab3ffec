/**
 * The optional sink: each output row upserted into `stream_<name>` (created from the contract's
 * columns when missing, primary key = the contract key), a tombstone deletes. One database transaction
 * per batch, written before the Kafka transaction commits: a batch replayed after a crash recomputes
 * the same rows, so the table converges to the output topics' final values.
 *
 * Column types follow the batch outputs (batch/tables.ts) on every engine. On MySQL/MariaDB two
 * defaults would break the promise above: a server's default collation (utf8mb4_general_ci) folds
 * case, so keys "O1" and "o1" — distinct Kafka keys — would be one row; and TIMESTAMP converts through
 * the session time zone and stops at 2038, so instants are DATETIME(3) holding UTC, as everywhere else.
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
    await knex.schema.createTable(table, (builder) => {
      if (mysql) {
        builder.charset('utf8mb4');
        builder.collate('utf8mb4_bin');
      }
      for (const column of transform.columns as Column[]) addColumn(builder, column, transform.key.includes(column.name));
      builder.primary([...transform.key]);
    });
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
      const writes: { transform: StreamTransform; key: string; value: string | null }[] = [];
      for (const record of records) {
        const suffix = record.topic.slice(record.topic.lastIndexOf('.out.'));
        const transform = byTopicSuffix.get(suffix);
        if (transform && record.topic.includes('.out.')) writes.push({ transform, key: record.key, value: record.value });
      }
      if (writes.length === 0) return;
      try {
        await knex.transaction(async (trx) => {
          for (const { transform, key, value } of writes) {
            const table = `stream_${transform.name}`;
            const keyValues = JSON.parse(key) as unknown[];
            const where = Object.fromEntries(transform.key.map((column, index) => [column, keyValues[index]]));
            if (value === null) await trx(table).where(where).delete();
            else await trx(table).insert(toDb(transform, JSON.parse(value) as Record<string, unknown>)).onConflict([...transform.key]).merge();
          }
        });
      } catch (error) {
        throw new SinkError(`stream_${writes[0]!.transform.name}`, `upserting ${writes.length} rows failed: ${messageOf(error)}`, { cause: error, hint: 'check the sink database is reachable and the table matches the contract (drop it to let dualrun recreate it)' });
      }
    },
    close: () => knex.destroy(),
  };
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
        // timestamptz(3) on PostgreSQL (an instant, read back as one whatever the reader's TZ); DATETIME(3) on MySQL.
        return builder.datetime(name, { useTz: true, precision: 3 });
    }
  })();
  if (isKey || !column.nullable) built.notNullable();
  else built.nullable();
}
