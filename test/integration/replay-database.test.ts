// Replay into each legacy engine (PostgreSQL, MariaDB, PGlite): the tables end exactly as the plain
// one-event-at-a-time fold says, whatever the batch size; stepping by --until ends where one run does;
// a database holding data is refused without reset.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateScenario } from '../../src/domains/shop/generate.ts';
import { UsageError } from '../../src/errors.ts';
import { replay } from '../../src/replay/replay.ts';
import type { Scenario } from '../../src/scenario/load.ts';
import { engines, freshDatabase, type TestDatabase } from '../support/databases.ts';
import { readLegacyState } from '../support/legacy-state.ts';
import { foldLegacyState } from '../support/shop-legacy-fold.ts';
import { loadShopScenario, shop, shopCutoff } from '../support/shop.ts';

let generated: Scenario;
let generatedDir: string;
beforeAll(async () => {
  generatedDir = await mkdtemp(join(tmpdir(), 'dualrun-replay-'));
  // Many changes per key so that small batches fold deletes, re-deliveries and status changes across boundaries.
  await generateScenario({ out: generatedDir, orders: 400, customers: 15, seed: 'replay-db', moveRate: 0.2, cancelRate: 0.3, duplicateRate: 0.1, lateRate: 0.1, days: 2 });
  generated = await loadShopScenario(generatedDir);
});
afterAll(async () => {
  await rm(generatedDir, { recursive: true, force: true });
});

describe.each(engines)('replay into %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await freshDatabase(engine);
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('applies cancellations-and-deletes in place: updates, hard deletes, updated_at = arrival', async () => {
    const scenario = await loadShopScenario('cancellations-and-deletes');
    const summary = await replay({ domain: shop, events: scenario.events, db: database.db, createSchema: true, batchSize: 4 });
    expect(summary.events).toBe(scenario.events.length);
    const state = await readLegacyState(database.db);
    // Worked out from the fixture: X4 and X5 hard-deleted, C3 deleted, X2 last changed by its cancellation.
    expect(state.orders.map((order) => `${order.order_id}:${order.status}`)).toEqual(['X1:cancelled', 'X2:cancelled', 'X3:cancelled', 'X6:shipped', 'X7:placed']);
    expect(state.orders.find((order) => order.order_id === 'X2')).toMatchObject({ created_at: '2024-07-01T09:01:00.000Z', updated_at: '2024-07-02T07:01:00.000Z', placed_at: '2024-07-01T09:00:00.000Z' });
    expect(state.customers.map((customer) => customer.customer_id)).toEqual(['C1', 'C2', 'C4']);
    expect(state.order_lines.map((line) => `${line.order_id}/${line.line_no}`)).toEqual(['X1/1', 'X2/1', 'X3/1', 'X6/1', 'X7/1']);
    expect(state).toEqual(foldLegacyState(scenario.events));
    expect(summary.database?.orders).toEqual({ upserted: 7, updated: 5, deleted: 2 });
  });

  it('writes text as it is: tabs, newlines, backslashes, quotes, \\N and multi-byte characters (PostgreSQL takes many new rows by COPY)', async () => {
    const scenario = await loadShopScenario('cancellations-and-deletes');
    const tricky = ['tab\there', 'line\nbreak\r\nand CR', 'back\\slash \\N', '"quoted", \'single\'', 'Ünïcødé ✓ 𝄞', '\\N'];
    const template = scenario.events.find((event) => event.event.type === 'CustomerUpserted')!;
    // Enough new customers in one batch for the COPY path.
    const customers = Array.from({ length: 600 }, (_, index) => ({
      ...template,
      event: { ...template.event, eventId: `tricky-${index}`, payload: { ...template.event.payload, customerId: `T${index}`, name: `${tricky[index % tricky.length]} ${index}` } },
    }));
    const events = [...customers, ...scenario.events];
    await replay({ domain: shop, events, db: database.db, reset: true, createSchema: true, batchSize: 5000 });
    const state = await readLegacyState(database.db);
    expect(state).toEqual(foldLegacyState(events));
    expect(state.customers.find((customer) => customer.customer_id === 'T1')?.name).toBe('line\nbreak\r\nand CR 1');
  });

  it('refuses a database that holds data, and starts over with reset', async () => {
    const scenario = await loadShopScenario('duplicates');
    await expect(replay({ domain: shop, events: scenario.events, db: database.db })).rejects.toThrow(UsageError);
    await expect(replay({ domain: shop, events: scenario.events, db: database.db })).rejects.toThrow(/table customers is not empty.*/);
    await replay({ domain: shop, events: scenario.events, db: database.db, reset: true });
    const state = await readLegacyState(database.db);
    // The redelivered "paid" arrived after "shipped": applied once, U2 stays shipped.
    expect(state.orders.map((order) => `${order.order_id}:${order.status}`)).toEqual(['U1:placed', 'U2:shipped', 'U3:placed', 'U4:shipped']);
    expect(state).toEqual(foldLegacyState(scenario.events));
  });

  it('ends in the fold of a generated scenario, in small and large batches', async () => {
    const expected = foldLegacyState(generated.events);
    expect(expected.orders.length).toBeGreaterThan(250);
    for (const batchSize of [37, 5000]) {
      await replay({ domain: shop, events: generated.events, db: database.db, reset: true, batchSize });
      expect(await readLegacyState(database.db)).toEqual(expected);
    }
  });

  it('stepping night by night with --until/--after ends where one run ends', async () => {
    const cutoffs = generated.businessDates.map((date) => shopCutoff(date));
    let after: Date | undefined;
    let replayed = 0;
    for (const [index, until] of cutoffs.entries()) {
      const summary = await replay({ domain: shop, events: generated.events, db: database.db, reset: index === 0, until, ...(after ? { after } : {}), batchSize: 250 });
      // Each step sees exactly the events that arrived by its cut-off (the night's batch would run here).
      const arrivedBy = generated.events.filter((event) => event.arrivalTime <= until.toISOString());
      expect(await readLegacyState(database.db)).toEqual(foldLegacyState(arrivedBy));
      replayed += summary.events;
      after = until;
    }
    const rest = await replay({ domain: shop, events: generated.events, db: database.db, ...(after ? { after } : {}) });
    expect(replayed + rest.events).toBe(generated.events.length);
    expect(await readLegacyState(database.db)).toEqual(foldLegacyState(generated.events));
  });
});
