// The run lock: exclusive per (transformation, date) within one database, from any connection or
// process; independent across databases on one server (MariaDB's GET_LOCK names are server-wide).
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockName, tryLock } from '../../batch/lock.ts';
import { createKnex } from '../../src/db.ts';
import { freshDatabase, type TestDatabase } from '../support/databases.ts';

describe.each(['postgres', 'mysql'] as const)('run lock on %s', (engine) => {
  let first: TestDatabase;
  let second: TestDatabase;
  let sameDatabaseOtherClient: Knex;
  beforeAll(async () => {
    [first, second] = await Promise.all([freshDatabase(engine), freshDatabase(engine)]);
    sameDatabaseOtherClient = createKnex(first.url);
  });
  afterAll(async () => {
    await sameDatabaseOtherClient?.destroy();
    await Promise.all([first?.drop(), second?.drop()]);
  });

  it('excludes a second holder in the same database until released, and never blocks another database', async () => {
    const name = lockName('orders_enriched', '2024-10-27');
    const held = await tryLock(first.db, engine, name);
    expect(held).toBeDefined();
    expect(await tryLock(first.db, engine, name)).toBeUndefined(); // same client (in-process guard)
    expect(await tryLock(sameDatabaseOtherClient, engine, name)).toBeUndefined(); // another client: the database lock
    const elsewhere = await tryLock(second.db, engine, name);
    expect(elsewhere).toBeDefined();
    const otherDate = await tryLock(sameDatabaseOtherClient, engine, lockName('orders_enriched', '2024-10-28'));
    expect(otherDate).toBeDefined();
    await Promise.all([held!.release(), elsewhere!.release(), otherDate!.release()]);
    const again = await tryLock(sameDatabaseOtherClient, engine, name);
    expect(again).toBeDefined();
    await again!.release();
  });
});
