// kill -9 in the middle of writing: a real child process runs orders_enriched with a sleep inside its
// INSERT … SELECT (so after its DELETE, with its transaction open) and is killed. The previous output
// must be intact, the next start must mark the dead run failed, and the next run (the real CLI) must complete.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listRuns } from '../../batch/history.ts';
import { readBatchOutput } from '../../batch/output.ts';
import { runBatch } from '../../batch/runner.ts';
import { ordersEnriched } from '../../src/domains/shop/index.ts';
import { silentLogger } from '../../src/logger.ts';
import { createDomainSchema } from '../../src/replay/schema.ts';
import { runCli } from '../support/cli.ts';
import { freshDatabase, type TestDatabase } from '../support/databases.ts';
import { insertCustomers, insertOrders } from '../support/legacy-rows.ts';
import { shop } from '../support/shop.ts';
import { sleepingStatements } from '../support/slow-transform.ts';

const script = fileURLToPath(new URL('../support/slow-batch-run.ts', import.meta.url));
const D = '2024-03-31'; // spring DST day: 23 hours, 2024-03-30T23:00Z to 2024-03-31T22:00Z

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe.each(['postgres', 'mysql'] as const)('kill -9 of a batch run on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await freshDatabase(engine);
    await createDomainSchema(database.db, shop);
    await insertCustomers(database.db, [['c1', 'north', 'gold']]);
    await insertOrders(database.db, [{ id: 'o1', customer: 'c1', currency: 'EUR', status: 'placed', placedAt: '2024-03-31T10:00:00.000Z', lines: [['p1', 2, '1.50', '0.00']] }]);
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('leaves the previous output, is marked failed on the next start, and the next run completes', async () => {
    const first = await runBatch({ db: database.db, engine, transforms: [ordersEnriched], businessDate: D, logger: silentLogger });
    expect(first.map((outcome) => outcome.status)).toEqual(['succeeded']);
    const previous = await readBatchOutput(database.db, ordersEnriched);
    expect(previous.map((row) => [row.order_id, row.net_amount])).toEqual([['o1', '3.00']]);

    // New data the killed run would have written.
    await insertOrders(database.db, [{ id: 'o2', customer: 'c1', currency: 'EUR', status: 'placed', placedAt: '2024-03-31T11:00:00.000Z', lines: [['p1', 1, '4.00', '0.00']] }]);

    const child = spawn(process.execPath, ['--import', 'tsx', script, database.url, D, '8'], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await waitFor(async () => (await sleepingStatements(database.db, engine)) > 0, 'the child to be inside its INSERT');
    const running = await listRuns(database.db, { transform: 'orders_enriched' });
    expect(running[0]?.status).toBe('running');
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    // The server rolls the dead session's transaction back once it notices (at the latest when the sleep ends).
    await waitFor(async () => (await sleepingStatements(database.db, engine)) === 0, 'the server to drop the dead session');
    expect(await readBatchOutput(database.db, ordersEnriched)).toEqual(previous);

    const rerun = await runCli(['batch', 'run', '--date', D, '--transform', 'orders_enriched', '--db', database.url]);
    expect(rerun.stderr).not.toMatch(/error/);
    expect(rerun.code).toBe(0);
    const runs = await listRuns(database.db, { transform: 'orders_enriched' });
    expect(runs.map((run) => run.status)).toEqual(['succeeded', 'failed', 'succeeded']);
    expect(runs[1]?.error).toMatch(/abandoned/);
    expect((await readBatchOutput(database.db, ordersEnriched)).map((row) => [row.order_id, row.net_amount])).toEqual([['o1', '3.00'], ['o2', '4.00']]);
  });
});
