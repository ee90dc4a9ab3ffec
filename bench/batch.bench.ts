/**
 * Batch benchmark: all five transformations for one business date over BENCH_ORDERS generated orders
 * (default 1,000,000; ~2 lines each) on PostgreSQL, beside the same SQL (the runner's own DELETE and
 * INSERT … SELECT statements, rendered with knex .toString()) run raw through psql in the same run,
 * each in its own transaction. The input is generated inside PostgreSQL with generate_series, for speed.
 * Ours includes everything a real run does: the lock, the run history, the output-table check.
 * Figure: our best wall time over the repeats as a ratio to psql's best (goal ≤ 1.2×).
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outputStatements, runBatch } from '../batch/runner.ts';
import { connectKnex } from '../src/db.ts';
import { shop, shopTransforms as transforms } from '../src/domains/shop/index.ts';
import { silentLogger } from '../src/logger.ts';
import { createDomainSchema } from '../src/replay/schema.ts';
import { cutoffFor, dayBounds } from '../src/time.ts';
import { printFigure, timeIt } from './report.ts';

const orders = Number(process.env.BENCH_ORDERS ?? 1_000_000);
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const businessDate = '2024-10-15';
const name = `dualrun_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const url = Object.assign(new URL(adminUrl), { pathname: `/${name}` }).toString();

const admin = await connectKnex(adminUrl);
await admin.raw(`CREATE DATABASE ${name}`);
const db = await connectKnex(url);
const scratch = await mkdtemp(join(tmpdir(), 'dualrun-bench-'));
try {
  await createDomainSchema(db, shop);
  const generated = await timeIt(async () => {
    await db.raw(`INSERT INTO customers (customer_id, name, region, tier, created_at, updated_at) SELECT 'c' || i, 'Customer ' || i, (ARRAY['north','south','east','west'])[1 + i % 4], (ARRAY['standard','silver','gold'])[1 + i % 3], '2024-01-01Z', '2024-01-01Z' FROM generate_series(1, 10000) i`);
    await db.raw(`INSERT INTO products (product_id, name, category, price, currency, updated_at) SELECT 'p' || i, 'Product ' || i, 'category' || (i % 20), 1.99 + i % 50, 'EUR', '2024-01-01Z' FROM generate_series(1, 1000) i`);
    await db.raw(`INSERT INTO fx_rates (currency, rate_date, rate_to_eur, updated_at) SELECT c, d::date, CASE c WHEN 'SEK' THEN 0.087 ELSE 0.92 END + (EXTRACT(doy FROM d)::int % 7) * 0.0001, '2024-01-01Z' FROM unnest(ARRAY['SEK','USD']) c, generate_series(DATE '2024-09-30', DATE '2024-11-01', INTERVAL '1 day') d`);
    // 30 days of orders, evenly spread; every tenth cancelled; arrival five minutes after placing.
    await db.raw(`INSERT INTO orders (order_id, customer_id, currency, status, placed_at, created_at, updated_at) SELECT 'o' || i, 'c' || (1 + (i::bigint * 7919) % 10000), (ARRAY['EUR','SEK','USD'])[1 + i % 3],
        CASE WHEN i % 10 = 0 THEN 'cancelled' WHEN i % 3 = 0 THEN 'shipped' WHEN i % 3 = 1 THEN 'paid' ELSE 'placed' END,
        p.placed, p.placed + INTERVAL '5 minutes', p.placed + INTERVAL '5 minutes'
      FROM generate_series(1, ?::int) i, LATERAL (SELECT TIMESTAMPTZ '2024-10-01 00:00Z' + (i::float8 / ?) * INTERVAL '30 days' AS placed) p`, [orders, orders]);
    await db.raw(`INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price, discount_pct) SELECT 'o' || i, l, 'p' || (1 + (i * 31 + l * 17) % 1000), 1 + (i + l) % 5, 0.49 + (1 + (i * l) % 200), ((i + l) % 4) * 5
      FROM generate_series(1, ?::int) i, generate_series(1, 1 + i % 3) l`, [orders]);
    await db.raw('ANALYZE');
  });
  const lines = Number(((await db('order_lines').count({ n: '*' })) as { n: string }[])[0]?.n);
  console.log(`generated ${orders.toLocaleString('en')} orders, ${lines.toLocaleString('en')} lines inside PostgreSQL in ${generated.seconds.toFixed(1)}s; business date ${businessDate}`);

  // The psql script: the same statements the runner executes, each output in its own transaction.
  const { start, end } = dayBounds(businessDate, shop.timeZone);
  const ctx = { knex: db, engine: 'postgres' as const, businessDate, dayStart: start, dayEnd: end, cutoff: cutoffFor(businessDate, '02:00', shop.timeZone) };
  const script = transforms
    .map((transform) => {
      const { remove, insert } = outputStatements(db, transform, { ...ctx });
      return `BEGIN;\n${remove.toString()};\n${insert.toString()};\nCOMMIT;`;
    })
    .join('\n');
  const scriptFile = join(scratch, 'batch.sql');
  await writeFile(scriptFile, script);
  const psql = async () => {
    // knex renders Date bindings as local wall time without an offset: give psql the same zone.
    const env = { ...process.env, PGTZ: Intl.DateTimeFormat().resolvedOptions().timeZone };
    const result = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-f', scriptFile], { encoding: 'utf8', env });
    if (result.status !== 0) throw new Error(`psql failed: ${result.stderr}`);
  };
  const ours = async () => {
    const outcomes = await runBatch({ db, engine: 'postgres', transforms, businessDate, logger: silentLogger });
    const failed = outcomes.find((outcome) => outcome.status !== 'succeeded');
    if (failed) throw new Error(`run failed: ${JSON.stringify(failed)}`);
    return outcomes;
  };

  const warm = await ours(); // creates the output tables, warms the caches
  console.log(`rows written: ${warm.map((outcome) => `${outcome.transform}=${outcome.status === 'succeeded' ? outcome.rowsWritten : '?'}`).join(', ')}`);
  await psql();
  const oursTimes: number[] = [];
  const psqlTimes: number[] = [];
  for (let repeat = 0; repeat < repeats; repeat += 1) {
    oursTimes.push((await timeIt(ours)).seconds);
    psqlTimes.push((await timeIt(psql)).seconds);
  }
  console.log(`ours: ${oursTimes.map((s) => s.toFixed(2)).join(', ')} s; psql: ${psqlTimes.map((s) => s.toFixed(2)).join(', ')} s`);
  printFigure({
    name: `batch, all five transformations, ${orders.toLocaleString('en')} orders (best of ${repeats})`,
    ours: Math.min(...oursTimes),
    reference: Math.min(...psqlTimes),
    referenceName: 'the same SQL through psql',
    unit: 's',
    kind: 'time',
    goal: '≤ 1.2×',
  });
} finally {
  await db.destroy();
  await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.destroy();
  await rm(scratch, { recursive: true, force: true });
}
