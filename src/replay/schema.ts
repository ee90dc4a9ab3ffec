/**
 * The legacy tables of a domain, as the declaration describes them: one table per entity (its fields,
 * key, arrival-time columns, indexes) and one per kind of child row (the parent key, the child's
 * fields). A real team's database already has them: replay writes into what is there and never drops
 * or recreates a table. `--create-schema` creates the missing ones in a fresh database, with column
 * types that run unchanged on PostgreSQL, MariaDB and PGlite (instants as timestamptz(3) on PostgreSQL,
 * DATETIME(3) holding UTC on MariaDB).
 */
import type { Knex } from 'knex';
import type { ChildModel, DomainModel, EntityModel, FieldModel, TableModel } from '../model/domain.ts';

function column(table: Knex.CreateTableBuilder, { column: name, field }: FieldModel): Knex.ColumnBuilder {
  switch (field.kind) {
    case 'id':
    case 'text':
    case 'enum':
      return table.string(name, field.maxLength);
    case 'integer':
      return table.integer(name);
    case 'decimal':
      return table.decimal(name, field.precision, field.scale);
    case 'date':
      return table.date(name);
    case 'instant':
      return instant(table, name);
    case 'boolean':
      return table.boolean(name);
  }
}

function instant(table: Knex.CreateTableBuilder, name: string): Knex.ColumnBuilder {
  return table.datetime(name, { useTz: true, precision: 3 });
}

/** Every table of the domain, parents before their children. */
export function domainTables(domain: DomainModel): TableModel[] {
  return domain.entities.flatMap((entity) => [entity.table, ...entity.children.map((child) => child.table)]);
}

/** The domain's tables the database does not have. */
export async function missingTables(db: Knex, domain: DomainModel): Promise<string[]> {
  const missing: string[] = [];
  for (const table of domainTables(domain)) if (!(await db.schema.hasTable(table.name))) missing.push(table.name);
  return missing;
}

/** Creates the domain's missing tables (a concurrent creator is fine); returns the ones it created. */
export async function createDomainSchema(db: Knex, domain: DomainModel): Promise<string[]> {
  const created: string[] = [];
  const create = async (name: string, build: (table: Knex.CreateTableBuilder) => void) => {
    if (await db.schema.hasTable(name)) return;
    try {
      await db.schema.createTable(name, build);
      created.push(name);
    } catch (error) {
      if (!(await db.schema.hasTable(name))) throw error;
    }
  };
  for (const entity of domain.entities) {
    await create(entity.table.name, (table) => buildEntity(table, entity));
    for (const child of entity.children) await create(child.table.name, (table) => buildChild(table, child));
  }
  return created;
}

function buildEntity(table: Knex.CreateTableBuilder, entity: EntityModel): void {
  for (const model of entity.fields) {
    const builder = column(table, model);
    if (!model.field.optional) builder.notNullable();
  }
  for (const name of [entity.table.createdAt, entity.table.updatedAt]) if (name !== undefined) instant(table, name).notNullable();
  table.primary(entity.key.map((name) => entity.field(name)!.column));
  for (const fields of entity.table.indexes) table.index(fields.map((name) => entity.field(name)!.column));
}

function buildChild(table: Knex.CreateTableBuilder, child: ChildModel): void {
  for (const model of child.parentKey) column(table, model).notNullable();
  for (const model of child.fields) {
    const builder = column(table, model);
    if (!model.field.optional) builder.notNullable();
  }
  table.primary([...child.parentKey.map((model) => model.column), ...child.key.map((name) => child.fields.find((f) => f.name === name)!.column)]);
  for (const fields of child.table.indexes) table.index(fields.map((name) => child.fields.find((f) => f.name === name)!.column));
}

/**
 * The domain's tables whose arrival-time columns (`createdAt`/`updatedAt`) hold a change after `instant`,
 * with the latest one: a nightly run for a cut-off before it sees rows it could not have seen then.
 */
export async function changesAfter(db: Knex, domain: DomainModel, instant: Date): Promise<{ table: string; column: string; latest: string }[]> {
  const found: { table: string; column: string; latest: string }[] = [];
  for (const entity of domain.entities) {
    for (const column of [entity.table.updatedAt, entity.table.createdAt]) {
      if (column === undefined || !(await db.schema.hasTable(entity.table.name))) continue;
      const row = (await db(entity.table.name).where(column, '>', instant).max({ latest: column }).first()) as { latest: unknown } | undefined;
      if (row?.latest === null || row?.latest === undefined) continue;
      found.push({ table: entity.table.name, column, latest: new Date(row.latest as string | Date).toISOString() });
      break;
    }
  }
  return found;
}
