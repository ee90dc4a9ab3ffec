/**
 * The tables the batch runner owns in the legacy database: one output table `batch_<name>` per
 * transformation, typed from its contract (decimal(18, scale), date, timestamp with milliseconds,
 * varchar, integer; primary key on the contract key), and the run history `dualrun_batch_runs`.
 */
import type { Knex } from 'knex';
import type { Column, TransformContract } from '../src/transforms/contract.ts';

export const HISTORY_TABLE = 'dualrun_batch_runs';

export const outputTableOf = (transform: Pick<TransformContract, 'name'>): string => `batch_${transform.name}`;

function addColumn(table: Knex.CreateTableBuilder, column: Column): Knex.ColumnBuilder {
  switch (column.type) {
    case 'string':
      return table.string(column.name, 255);
    case 'integer':
      return table.integer(column.name);
    case 'decimal':
      return table.decimal(column.name, 18, column.scale ?? 2);
    case 'date':
      return table.date(column.name);
    case 'timestamp':
      return table.datetime(column.name, { useTz: true, precision: 3 });
  }
}

/** Creates a table if it is missing, tolerating a concurrent creator (the loser sees "already exists"). */
async function createIfMissing(db: Knex, name: string, build: (table: Knex.CreateTableBuilder) => void): Promise<void> {
  if (await db.schema.hasTable(name)) return;
  try {
    await db.schema.createTable(name, build);
  } catch (error) {
    if (!(await db.schema.hasTable(name))) throw error;
  }
}

/** Outside any transaction: on MariaDB DDL commits implicitly, so it must never sit inside the output's transaction. */
export async function ensureOutputTable(db: Knex, transform: TransformContract): Promise<void> {
  await createIfMissing(db, outputTableOf(transform), (table) => {
    for (const column of transform.columns) {
      const builder = addColumn(table, column);
      if (!column.nullable) builder.notNullable();
    }
    table.primary([...transform.key]);
  });
}

export async function ensureHistoryTable(db: Knex): Promise<void> {
  await createIfMissing(db, HISTORY_TABLE, (table) => {
    table.increments('id').primary();
    table.string('transform', 64).notNullable();
    table.date('business_date').notNullable();
    table.datetime('cutoff', { useTz: true, precision: 3 }).notNullable();
    table.datetime('started_at', { useTz: true, precision: 3 }).notNullable();
    table.datetime('finished_at', { useTz: true, precision: 3 }).nullable();
    table.string('status', 16).notNullable();
    table.integer('rows_written').nullable();
    table.text('error').nullable();
    table.string('runner', 128).notNullable();
    table.index(['transform', 'business_date', 'status']);
  });
}

/**
 * Empties what the batch runner wrote for these transformations — their output tables and their run
 * history — so a dual run started over on the same database (`demo --reset`) compares only its own
 * nights, not an earlier scenario's dates still in `batch_<name>`.
 */
export async function resetBatchOutputs(db: Knex, transforms: readonly Pick<TransformContract, 'name'>[]): Promise<void> {
  for (const transform of transforms) if (await db.schema.hasTable(outputTableOf(transform))) await db(outputTableOf(transform)).truncate();
  if (await db.schema.hasTable(HISTORY_TABLE)) await db(HISTORY_TABLE).whereIn('transform', transforms.map((transform) => transform.name)).delete();
}
