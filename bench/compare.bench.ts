/**
 * Comparator benchmark: N vs N rows (BENCH_ROWS, default 10,000,000) with 0.1 % injected differences
 * (a third each: value mismatch, row only left, row only right). Prints the comparison's total time and
 * phases beside a bare DuckDB FULL OUTER JOIN count over the same loaded tables, measured in the same run
 * (goal ≤ 1.5×), and beside the same join reading every value (the least an exact diff must do): the
 * median of BENCH_ROUNDS rounds, each measured back to back. Also the load rate from PostgreSQL in rows/s beside PostgreSQL's own COPY to /dev/null.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { openDuck } from '../compare/duck.ts';
import { diffTables } from '../compare/diff.ts';
import { explain } from '../compare/explain.ts';
import { loadDatabase } from '../compare/load.ts';
import { connectKnex } from '../src/db.ts';
import type { Column } from '../src/transforms/contract.ts';
import { printFigure, timeIt } from './report.ts';

const rows = Number(process.env.BENCH_ROWS ?? 10_000_000);
const pgRows = Number(process.env.BENCH_PG_ROWS ?? Math.min(rows, 2_000_000));
const columns: Column[] = [
  { name: 'order_id', type: 'string' },
  { name: 'business_date', type: 'date' },
  { name: 'region', type: 'string' },
  { name: 'order_count', type: 'integer' },
  { name: 'revenue_eur', type: 'decimal', scale: 2, rule: { abs: 0.005 } },
  { name: 'placed_at', type: 'timestamp', rule: { precision: 'ms' } },
];

// The loaded shape: text columns, as every loader lands them.
const generated = (filter: string, amount: string) => `SELECT 'o' || i AS order_id, CAST(DATE '2024-01-01' + CAST(i % 365 AS INTEGER) AS VARCHAR) AS business_date,
    (['north','south','east','west'])[1 + i % 4] AS region, CAST(i % 7 AS VARCHAR) AS order_count, ${amount} AS revenue_eur,
    strftime(TIMESTAMP '2024-01-01' + INTERVAL (i) SECOND, '%Y-%m-%dT%H:%M:%S.000Z') AS placed_at
  FROM range(${rows}) t(i) WHERE ${filter}`;

async function compareOnce(duck: Awaited<ReturnType<typeof openDuck>>) {
  const outcome = await diffTables(duck, { name: 'bench', leftTable: 'l', rightTable: 'r', leftSource: 'l', rightSource: 'r', key: ['order_id'], columns }, 'bench');
  const explained = await explain(duck, outcome, { transform: undefined, events: undefined, dated: false, eventTimeField: undefined, cutoffTime: '02:00', watermark: undefined, limit: 500 }, 'bench');
  return { outcome, explained };
}

async function compareBench(): Promise<void> {
  const duck = await openDuck();
  const money = 'printf(\'%d.%02d\', i % 100000, i % 100)';
  console.log(`generating ${rows.toLocaleString('en')} vs ${rows.toLocaleString('en')} rows with 0.1 % differences`);
  await duck.run(`CREATE TABLE l AS ${generated('true', money)}`);
  // i % 3000 = 0: amount differs; = 1000: only left; = 2000: the key is renamed, so only right (and only left).
  await duck.run(`CREATE TABLE r AS SELECT CASE WHEN i % 3000 = 2000 THEN 'n' || i ELSE order_id END AS order_id, business_date, region, order_count,
      CASE WHEN i % 3000 = 0 THEN printf('%d.%02d', i % 100000 + 1, i % 100) ELSE revenue_eur END AS revenue_eur, placed_at
    FROM (SELECT *, CAST(substr(order_id, 2) AS BIGINT) AS i FROM l) WHERE i % 3000 <> 1000`);
  await duck.run('CHECKPOINT');

  // The machine is shared: each round measures the references and the comparison back to back, and the
  // figures printed are those of the median round (by ratio to the bare count) of BENCH_ROUNDS.
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  type Ours = Awaited<ReturnType<typeof compareOnce>>;
  // A second, like-for-like reference: the same join that also reads every value (exact text equality,
  // no rules) — the least any value diff must do; the bare count above never reads the values.
  const values = ['business_date', 'region', 'order_count', 'revenue_eur', 'placed_at'];
  const valueJoin = `SELECT count(*) AS n FROM l FULL OUTER JOIN r USING (order_id) WHERE (${values.map((c) => `l.${c}`).join(', ')}) IS DISTINCT FROM (${values.map((c) => `r.${c}`).join(', ')})`;
  const measured: { reference: number; valueReference: number; ours: number; result: Ours }[] = [];
  for (let round = 0; round < rounds; round++) {
    const ref = await timeIt(() => duck.rows('SELECT count(*) AS n FROM l FULL OUTER JOIN r USING (order_id)'));
    const valueRef = await timeIt(() => duck.rows(valueJoin));
    const run = await timeIt(() => compareOnce(duck));
    console.log(
      `round ${round + 1}: reference ${ref.seconds.toFixed(3)} s, value-reading reference ${valueRef.seconds.toFixed(3)} s, comparison ${run.seconds.toFixed(3)} s ` +
        `(${(run.seconds / ref.seconds).toFixed(2)}× / ${(run.seconds / valueRef.seconds).toFixed(2)}×), phases (ms) ${JSON.stringify(run.result.outcome.durationsMs)}`,
    );
    measured.push({ reference: ref.seconds, valueReference: valueRef.seconds, ours: run.seconds, result: run.result });
  }
  const median = <T>(items: T[], by: (item: T) => number): T => [...items].sort((a, b) => by(a) - by(b))[Math.floor(items.length / 2)]!;
  const middle = median(measured, (round) => round.ours / round.reference);
  const middleValue = median(measured, (round) => round.ours / round.valueReference);
  const { counts, durationsMs } = middle.result.outcome;
  console.log(`median round: counts ${JSON.stringify(counts)}; phases (ms) ${JSON.stringify(durationsMs)}, explain ${Math.round(middle.ours * 1000 - Object.values(durationsMs).reduce((a, b) => a + b, 0))}`);
  const injected = Math.floor(rows / 3000) + (rows % 3000 > 0 ? 1 : 0);
  if (counts.mismatch !== injected) throw new Error(`expected ${injected} mismatches, found ${counts.mismatch}`);
  printFigure({ name: `compare ${rows.toLocaleString('en')} vs ${rows.toLocaleString('en')} rows (0.1 % differences)`, ours: middle.ours, reference: middle.reference, referenceName: 'bare DuckDB FULL OUTER JOIN count', unit: 's', kind: 'time', goal: '≤ 1.5×' });
  printFigure({ name: `compare ${rows.toLocaleString('en')} vs ${rows.toLocaleString('en')} rows (0.1 % differences)`, ours: middleValue.ours, reference: middleValue.valueReference, referenceName: 'DuckDB FULL OUTER JOIN counting rows whose values differ', unit: 's', kind: 'time' });
  duck.close();
}

async function postgresLoadBench(): Promise<void> {
  const admin = await connectKnex(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const name = `dualrun_bench_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  await admin.raw(`create database ${name}`);
  const url = `postgres://postgres@127.0.0.1:5432/${name}`;
  const db = await connectKnex(url);
  try {
    await db.raw(`create table batch_bench as select 'o' || i as order_id, date '2024-01-01' + (i % 365) as business_date, (array['north','south','east','west'])[1 + i % 4] as region,
      i % 7 as order_count, round((i % 100000) + (i % 100) / 100.0, 2)::numeric(12,2) as revenue_eur, timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second' as placed_at
      from generate_series(1, ${pgRows}) i`);
    const reference = await timeIt(async () => execFileSync('psql', [url, '-q', '-c', '\\copy (select * from batch_bench) to /dev/null csv']));
    const duck = await openDuck();
    const ours = await timeIt(() => loadDatabase(duck, 'loaded', { knex: db, table: 'batch_bench', source: 'db:batch_bench' }));
    duck.close();
    if (ours.result.rows !== pgRows) throw new Error(`loaded ${ours.result.rows} of ${pgRows} rows`);
    printFigure({ name: `load ${pgRows.toLocaleString('en')} rows from PostgreSQL into DuckDB`, ours: pgRows / ours.seconds, reference: pgRows / reference.seconds, referenceName: 'psql \\copy to /dev/null', unit: 'rows/s', kind: 'rate' });
  } finally {
    await db.destroy();
    await admin.raw(`drop database if exists ${name} with (force)`);
    await admin.destroy();
  }
}

await compareBench();
await postgresLoadBench();
