/**
 * The dates the batch job ran a transformation for, from its run history in the legacy database — for
 * the comparator, which must not load batch/ itself (DESIGN.md section 3): the CLI wires them together.
 */
import type { Knex } from 'knex';

/** Business dates with a succeeded run of `transform`; undefined when the database holds no run history. */
export async function batchRunDates(db: Knex, transform: string): Promise<string[] | undefined> {
  const [{ listRuns }, { HISTORY_TABLE }] = await Promise.all([import('../../batch/history.ts'), import('../../batch/tables.ts')]);
  if (!(await db.schema.hasTable(HISTORY_TABLE))) return undefined;
  const runs = await listRuns(db, { transform });
  const dates = [...new Set(runs.filter((run) => run.status === 'succeeded').map((run) => run.businessDate))].sort();
  return dates.length > 0 ? dates : undefined;
}
