// The scheduler with an injected clock and tick source (never waiting for real time), against a real
// PostgreSQL: catch-up of missing dates oldest first, no overlapping runs, two schedulers on one
// database running each (transformation, date) once, exactly one run across DST change nights, and
// stop() meeting a run in flight (a transformation asleep inside its INSERT … SELECT), which finishes and commits.
import type { Knex } from 'knex';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listRuns } from '../../batch/history.ts';
import { Scheduler, latestDueDate, type TickSource } from '../../batch/scheduler.ts';
import { readBatchOutput } from '../../batch/output.ts';
import { HISTORY_TABLE, outputTableOf } from '../../batch/tables.ts';
import { createKnex } from '../../src/db.ts';
import { silentLogger } from '../../src/logger.ts';
import { createDomainSchema } from '../../src/replay/schema.ts';
import { freshDatabase, type TestDatabase } from '../support/databases.ts';
import { insertCustomers, insertOrders } from '../support/legacy-rows.ts';
import { shop, shopTransforms as transforms } from '../support/shop.ts';
import { slowTransform, sleepingStatements } from '../support/slow-transform.ts';
import { ordersEnriched } from '../../src/domains/shop/index.ts';

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

class ManualTicks implements TickSource {
  private onTick: (() => void) | undefined;
  start(onTick: () => void): void {
    this.onTick = onTick;
  }
  stop(): void {
    this.onTick = undefined;
  }
  fire(): void {
    this.onTick?.();
  }
}

describe('batch scheduler (postgres, injected clock)', () => {
  let database: TestDatabase;
  let now: Date;
  const schedulers: Scheduler[] = [];
  const extraConnections: Knex[] = [];

  function scheduler(catchUpDays: number, db: Knex = database.db) {
    const ticks = new ManualTicks();
    const instance = new Scheduler({ db, engine: 'postgres', transforms, logger: silentLogger, ticks, clock: () => now, timeZone: 'Europe/Stockholm', catchUpDays });
    schedulers.push(instance);
    return { instance, ticks };
  }

  /** (date, transform) of every run, in the order they started. */
  async function runs() {
    return (await listRuns(database.db)).reverse();
  }

  beforeAll(async () => {
    database = await freshDatabase('postgres');
    await createDomainSchema(database.db, shop);
    await insertCustomers(database.db, [['c1', 'north', 'gold']]);
    await insertOrders(database.db, [{ id: 'o1', customer: 'c1', currency: 'EUR', status: 'placed', placedAt: '2024-10-27T10:00:00.000Z', lines: [['p1', 1, '1.00', '0.00']] }]);
  });
  beforeEach(async () => {
    await Promise.all(schedulers.splice(0).map((instance) => instance.stop()));
    if (await database.db.schema.hasTable(HISTORY_TABLE)) await database.db(HISTORY_TABLE).delete();
  });
  afterAll(async () => {
    await Promise.all(schedulers.map((instance) => instance.stop()));
    await Promise.all(extraConnections.map((db) => db.destroy()));
    await database?.drop();
  });

  it('knows which date is due: the one whose 02:00 cut-off the next morning has passed', () => {
    expect(latestDueDate(new Date('2024-10-29T00:59:59.999Z'), 'Europe/Stockholm')).toBe('2024-10-27'); // 01:59:59.999 CET on the 29th
    expect(latestDueDate(new Date('2024-10-29T01:00:00.000Z'), 'Europe/Stockholm')).toBe('2024-10-28'); // 02:00 CET
    expect(latestDueDate(new Date('2024-07-02T00:00:00.000Z'), 'Europe/Stockholm')).toBe('2024-07-01'); // 02:00 CEST
  });

  it('catches up every missing date on start-up, oldest first, and then only what became due', async () => {
    now = new Date('2024-10-29T12:00:00Z');
    const { instance, ticks } = scheduler(3);
    await instance.start();
    await instance.idle();
    const dates = ['2024-10-26', '2024-10-27', '2024-10-28'];
    expect((await runs()).map((run) => [run.businessDate, run.transform, run.status])).toEqual(dates.flatMap((date) => transforms.map((t) => [date, t.name, 'succeeded'])));

    ticks.fire(); // nothing new is due
    await instance.idle();
    expect(await runs()).toHaveLength(15);

    now = new Date('2024-10-30T01:00:00Z'); // 02:00 CET on the 30th: the 29th is due
    ticks.fire();
    await instance.idle();
    const all = await runs();
    expect(all).toHaveLength(20);
    expect(all.slice(15).map((run) => run.businessDate)).toEqual(Array(5).fill('2024-10-29'));
  });

  it('never overlaps runs: ticks during a pass ask for one more pass, and nothing runs twice', async () => {
    now = new Date('2024-10-29T12:00:00Z');
    const { instance, ticks } = scheduler(3);
    await instance.start();
    ticks.fire();
    ticks.fire();
    ticks.fire();
    await instance.idle();
    const all = await runs();
    expect(all).toHaveLength(15);
    for (let index = 1; index < all.length; index += 1) {
      expect(Date.parse(all[index]!.startedAt)).toBeGreaterThanOrEqual(Date.parse(all[index - 1]!.finishedAt!));
    }
  });

  it('with two schedulers on one database, runs each transformation and date exactly once (the database lock)', async () => {
    now = new Date('2024-10-29T12:00:00Z');
    const other = createKnex(database.url);
    extraConnections.push(other);
    const first = scheduler(3);
    const second = scheduler(3, other);
    await Promise.all([first.instance.start(), second.instance.start()]);
    await Promise.all([first.instance.idle(), second.instance.idle()]);
    const all = await runs();
    const pairs = all.filter((run) => run.status === 'succeeded').map((run) => `${run.transform}|${run.businessDate}`);
    expect(pairs.sort()).toEqual(['2024-10-26', '2024-10-27', '2024-10-28'].flatMap((date) => transforms.map((t) => `${t.name}|${date}`)).sort());
    expect(all.every((run) => run.status === 'succeeded')).toBe(true);
  });

  it('runs the autumn DST night exactly once although 02:00 happens twice', async () => {
    now = new Date('2024-10-26T23:59:00Z'); // 01:59 CEST on the 27th: the 26th is not due yet
    const { instance, ticks } = scheduler(1);
    await instance.start();
    await instance.idle();
    expect(new Set((await runs()).map((run) => run.businessDate))).toEqual(new Set(['2024-10-25']));
    for (const tick of ['2024-10-27T00:00:00Z', '2024-10-27T01:00:00Z']) { // 02:00 CEST, then 02:00 CET again
      now = new Date(tick);
      ticks.fire();
      await instance.idle();
    }
    const all = await runs();
    expect(all.filter((run) => run.businessDate === '2024-10-26').map((run) => run.transform)).toEqual(transforms.map((t) => t.name));
    expect(all.filter((run) => run.businessDate === '2024-10-26').every((run) => Date.parse(run.cutoff) === Date.parse('2024-10-27T00:00:00Z'))).toBe(true);
  });

  it('runs the spring DST night exactly once although 02:00 does not exist (cut-off moves to 03:00 CEST)', async () => {
    now = new Date('2024-03-31T00:59:59Z'); // 01:59:59 CET: the 30th is not due
    const { instance, ticks } = scheduler(1);
    await instance.start();
    await instance.idle();
    expect(new Set((await runs()).map((run) => run.businessDate))).toEqual(new Set(['2024-03-29']));
    for (const tick of ['2024-03-31T01:00:00Z', '2024-03-31T02:00:00Z']) { // 03:00 and 04:00 CEST
      now = new Date(tick);
      ticks.fire();
      await instance.idle();
    }
    const all = await runs();
    expect(all.filter((run) => run.businessDate === '2024-03-30')).toHaveLength(transforms.length);
    expect(all.filter((run) => run.businessDate === '2024-03-31')).toHaveLength(0);
  });

  it('stop() lets the run in flight finish and commit, and starts nothing more', async () => {
    now = new Date('2024-10-29T12:00:00Z');
    // orders_enriched alone, asleep 2 s inside its INSERT … SELECT: stop() meets a run in flight.
    const slow = slowTransform(ordersEnriched, 'postgres', 2);
    const output = outputTableOf(ordersEnriched);
    if (await database.db.schema.hasTable(output)) await database.db(output).delete(); // earlier tests wrote the 27th's row
    const ticks = new ManualTicks();
    const instance = new Scheduler({ db: database.db, engine: 'postgres', transforms: [slow], logger: silentLogger, ticks, clock: () => now, timeZone: 'Europe/Stockholm', catchUpDays: 2 });
    schedulers.push(instance);
    await instance.start();
    await until(async () => (await sleepingStatements(database.db, 'postgres')) > 0, 'the first run to be inside its INSERT');
    expect((await runs()).map((run) => [run.businessDate, run.status])).toEqual([['2024-10-27', 'running']]);

    await instance.stop();
    // The 27th finished and committed its row; the 28th, due as well, never started.
    expect((await runs()).map((run) => [run.businessDate, run.transform, run.status])).toEqual([['2024-10-27', 'orders_enriched', 'succeeded']]);
    expect((await readBatchOutput(database.db, ordersEnriched)).map((row) => [row.order_id, row.business_date])).toEqual([['o1', '2024-10-27']]);
    now = new Date('2024-11-05T12:00:00Z');
    ticks.fire();
    await instance.idle();
    expect(await runs()).toHaveLength(1);
  });
});
