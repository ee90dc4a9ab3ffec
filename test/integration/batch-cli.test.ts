// `dualrun batch` as a user runs it (the real bin in a child process): results, history, one clear
// message and a distinct exit code per kind of error, and a scheduler that stops cleanly on SIGTERM.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listRuns } from '../../batch/history.ts';
import { lockName, tryLock } from '../../batch/lock.ts';
import { ensureHistoryTable } from '../../batch/tables.ts';
import { ExitCode } from '../../src/errors.ts';
import { createDomainSchema } from '../../src/replay/schema.ts';
import { runCli } from '../support/cli.ts';
import { freshDatabase, type TestDatabase } from '../support/databases.ts';
import { insertCustomers, insertOrders } from '../support/legacy-rows.ts';
import { shop } from '../support/shop.ts';

const bin = fileURLToPath(new URL('../../bin/dualrun.js', import.meta.url));

describe('dualrun batch CLI', () => {
  let postgres: TestDatabase;
  let mysql: TestDatabase;
  let pglite: TestDatabase;
  beforeAll(async () => {
    [postgres, mysql, pglite] = await Promise.all([freshDatabase('postgres'), freshDatabase('mysql'), freshDatabase('pglite')]);
    for (const database of [postgres, mysql]) {
      await createDomainSchema(database.db, shop);
      await insertCustomers(database.db, [['c1', 'north', 'gold']]);
      await insertOrders(database.db, [{ id: 'o1', customer: 'c1', currency: 'EUR', status: 'placed', placedAt: '2024-10-27T10:00:00.000Z', lines: [['p1', 3, '2.50', '0.00']] }]);
    }
    await pglite.db.destroy(); // the child opens the folder; PGlite is single-process
  });
  afterAll(async () => {
    await Promise.all([postgres?.drop(), mysql?.drop(), pglite?.drop()]);
  });

  it('runs the chosen transformations for a date and shows them in the history', async () => {
    const result = await runCli(['batch', 'run', '--date', '2024-10-27', '--transform', 'daily_revenue_by_region', '--transform', 'orders_enriched', '--db', postgres.url]);
    expect(result.stderr).toContain('2 transformation(s) on postgres');
    expect(result.code).toBe(ExitCode.ok);
    expect(result.stdout).toMatch(/^daily_revenue_by_region\s+2024-10-27 succeeded: 1 rows/m);
    expect(result.stdout).toMatch(/^orders_enriched\s+2024-10-27 succeeded: 1 rows/m);
    // On a terminal stdout and stderr show together: each success once.
    expect(`${result.stdout}${result.stderr}`.match(/succeeded/g)).toHaveLength(2);
    expect(await postgres.db('batch_daily_revenue_by_region').select('region', 'order_count', 'revenue_eur')).toEqual([{ region: 'north', order_count: 1, revenue_eur: '7.50' }]);
    const history = await runCli(['batch', 'history', '--json', '--db', postgres.url]);
    expect(history.code).toBe(ExitCode.ok);
    expect((JSON.parse(history.stdout) as { transform: string; status: string }[]).map((run) => [run.transform, run.status])).toEqual([['orders_enriched', 'succeeded'], ['daily_revenue_by_region', 'succeeded']]);
  });

  it('gives one clear message and exit 2 for an unknown transformation or an invalid date', async () => {
    const unknown = await runCli(['batch', 'run', '--date', '2024-10-27', '--transform', 'revenue', '--db', postgres.url]);
    expect(unknown.code).toBe(ExitCode.usage);
    expect(unknown.stderr).toContain('unknown transformation "revenue"');
    expect(unknown.stderr).toContain('orders_enriched, daily_revenue_by_region, customer_lifetime_value, product_sales_daily, order_status_current');
    const invalid = await runCli(['batch', 'run', '--date', '2024-02-30', '--db', postgres.url]);
    expect(invalid.code).toBe(ExitCode.usage);
    expect(invalid.stderr).toContain('--date: "2024-02-30" is not a date written YYYY-MM-DD');
    // A flag without its value names the flag and the value it wants (not node's "argument is ambiguous").
    const followed = await runCli(['batch', 'run', '--date', '--db', postgres.url]);
    expect(followed.code).toBe(ExitCode.usage);
    expect(followed.stderr).toBe('error: dualrun batch: --date needs a value (YYYY-MM-DD), but the next argument is the flag --db\n  fix: write --date YYYY-MM-DD; see dualrun batch --help\n');
    const last = await runCli(['batch', 'history', '--db', postgres.url, '--limit']);
    expect(last.code).toBe(ExitCode.usage);
    expect(last.stderr).toContain('error: dualrun batch: --limit needs a value (N), and nothing follows it');
  });

  it('refuses a date whose cut-off has not come yet, unless --before-cutoff', async () => {
    // A database of its own: the scheduler test below counts every run in the shared one.
    const database = await freshDatabase('postgres');
    try {
      await createDomainSchema(database.db, shop);
      await ensureHistoryTable(database.db);
      const future = await runCli(['batch', 'run', '--date', '2099-01-01', '--transform', 'order_status_current', '--db', database.url]);
      expect(future.code).toBe(ExitCode.usage);
      expect(future.stderr).toContain('error: --date 2099-01-01: its cut-off (02:00 Europe/Stockholm on the next day, 2099-01-02T01:00:00.000Z) has not come yet; the latest date that is due is ');
      expect(future.stderr).toContain('pass --before-cutoff to run it now anyway');
      expect(await listRuns(database.db)).toEqual([]);
      const forced = await runCli(['batch', 'run', '--date', '2099-01-01', '--transform', 'order_status_current', '--before-cutoff', '--db', database.url]);
      expect(forced.code, forced.stderr).toBe(ExitCode.ok);
      expect((await listRuns(database.db)).map((run) => [run.businessDate, run.status])).toEqual([['2099-01-01', 'succeeded']]);
    } finally {
      await database.drop();
    }
  });

  it('refuses a stray argument instead of ignoring it', async () => {
    const result = await runCli(['batch', 'run', '--date', '2024-10-27', '--transform', 'orders_enriched', 'daily_revenue_by_region', '--db', postgres.url]);
    expect(result.stderr).toContain('unexpected argument "daily_revenue_by_region"');
    expect(result.code).toBe(ExitCode.usage);
  });

  it('skips with a clear message and exit 1 while another process holds the run lock', async () => {
    const lock = await tryLock(postgres.db, 'postgres', lockName('order_status_current', '2024-10-27'));
    try {
      const result = await runCli(['batch', 'run', '--date', '2024-10-27', '--transform', 'order_status_current,orders_enriched', '--db', postgres.url]);
      expect(result.stderr).toContain('error: batch order_status_current 2024-10-27: order_status_current for 2024-10-27 is being run by another process (its database lock is held)');
      expect(result.stdout).toMatch(/^orders_enriched\s+2024-10-27 succeeded/m);
      expect(result.code).toBe(ExitCode.failed);
    } finally {
      await lock?.release();
    }
  });

  it('exits 4 when the database cannot be reached', async () => {
    const result = await runCli(['batch', 'run', '--date', '2024-10-27', '--db', 'postgres://postgres@127.0.0.1:1/shop']);
    expect(result.code).toBe(ExitCode.unavailable);
    expect(result.stderr).toContain('cannot connect');
    // stdout is for results: --json output stays JSON (or nothing), the driver's complaint is not on it.
    for (const url of ['postgres://postgres@127.0.0.1:1/x', 'mysql://root@127.0.0.1:1/x']) {
      const history = await runCli(['batch', 'history', '--json', '--db', url]);
      expect(history.code).toBe(ExitCode.unavailable);
      expect(history.stdout).toBe('');
      expect(history.stderr).toMatch(/^error: database .*: cannot connect: connect ECONNREFUSED 127\.0\.0\.1:1\n {2}fix: /);
    }
  });

  it('exits 5 naming the table when a source table is missing (PGlite, empty database)', async () => {
    const result = await runCli(['batch', 'run', '--date', '2024-10-27', '--transform', 'order_status_current', '--db', pglite.url]);
    expect(result.stderr).toContain('error: table orders: source table orders does not exist (needed for batch_order_status_current)');
    expect(result.code).toBe(ExitCode.schema);
  });

  it('exits 5 naming table and column when a source column is missing (MariaDB)', async () => {
    await mysql.db.schema.alterTable('customers', (table) => table.dropColumn('tier'));
    const result = await runCli(['batch', 'run', '--date', '2024-10-27', '--transform', 'orders_enriched', '--db', mysql.url]);
    expect(result.stderr).toContain('error: table customers: column tier does not exist in customers (needed for batch_orders_enriched)');
    expect(result.code).toBe(ExitCode.schema);
    const runs = await listRuns(mysql.db);
    expect(runs.map((run) => [run.transform, run.status])).toEqual([['orders_enriched', 'failed']]);
  });

  it('schedules, catches up, and on SIGTERM finishes the current run and exits 0', async () => {
    const child = spawn(process.execPath, [bin, 'batch', 'schedule', '--catch-up-days', '2', '--db', postgres.url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    // SIGTERM once the catch-up pass has finished a first run (it keeps going in the background).
    while (!/succeeded: \d+ rows/.test(stderr) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('SIGTERM: finishing the current run, then exiting');
    expect(stderr).toContain('keeping the last 2 business date(s) complete');
    // Waiting, it says when it runs next: the default "0 2 * * *" in Stockholm.
    expect(stderr).toMatch(/next run at \d{4}-\d\d-\d\d 02:00 Europe\/Stockholm \(\d{4}-\d\d-\d\dT0[01]:00:00\.000Z\): it runs the dates due and missing then/);
    // Whatever had started finished; nothing is left running or failed.
    const scheduled = (await listRuns(postgres.db)).filter((run) => run.businessDate !== '2024-10-27');
    expect(scheduled.length).toBeGreaterThanOrEqual(1);
    expect(scheduled.length).toBeLessThanOrEqual(10);
    expect(scheduled.map((run) => run.status)).toEqual(Array(scheduled.length).fill('succeeded'));
  });
});
