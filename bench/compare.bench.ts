/**
 * Comparator benchmark, in parts (BENCH_PARTS, default all: typed,explain,text,pg):
 *  - typed: two Parquet files of N rows (BENCH_TYPED_ROWS, default 3,000,000 and 10,000,000; a BIGINT key,
 *    INTEGER, DECIMAL(12,2), TIMESTAMPTZ and VARCHAR columns) written by DuckDB with a known number of
 *    differences of each kind, compared end to end by `node bin/dualrun.js compare` as a child process
 *    (CLI start, reports and history included) beside two references measured in the same round: a bare
 *    DuckDB FULL OUTER JOIN of the files counting rows where any value IS DISTINCT FROM, in process
 *    (@duckdb/node-api), and the same query through a fresh node process (start and DuckDB load included).
 *    Goal: ≤ 1.5× (issue #12). With BENCH_INSTALLED=1, also the command as a user has it: the repository
 *    packed and installed into a fresh project (compiled JavaScript, no TypeScript loader at start-up);
 *  - explain: the explanation of BENCH_METERS (default 10,000) differences on the metering domain, from a
 *    real dual run (the example's generator, three readings a meter; replayed night by night into PGlite and
 *    Kafka, the nightly batch, the streaming job to idle) of meter_total_kwh with a deliberate bug in its
 *    streaming half (10 Wh added to every reading), so every meter differs and every difference is
 *    judged against what the events predict. Ours: the explain phase; reference: the same comparison with no
 *    input events (load and diff, nothing explained), measured in the same round;
 *  - text: N vs N text rows (BENCH_ROWS, default 10,000,000) with 0.1 % injected differences (a third each:
 *    value mismatch, row only left, row only right), compared in process beside a bare FULL OUTER JOIN
 *    count over the same loaded tables and the same join reading every value;
 *  - pg: the load rate from PostgreSQL in rows/s beside PostgreSQL's own COPY to /dev/null.
 * Every figure is the median of BENCH_ROUNDS rounds (default 3), each measuring ours and its references back to back.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { literal, openDuck } from '../compare/duck.ts';
import { diffTables } from '../compare/diff.ts';
import { explain } from '../compare/explain.ts';
import { loadDatabase } from '../compare/load.ts';
import { connectKnex } from '../src/db.ts';
import type { Column } from '../src/transforms/contract.ts';
import { printFigure, timeIt } from './report.ts';
import { runBatch } from '../batch/runner.ts';
import { compareTransform } from '../compare/index.ts';
import { meterTotalKwh, meterTotalKwhStream } from '../examples/metering/meter-total-kwh.ts';
import { sumDecimals } from '../src/decimal.ts';
import { deleteRunTopics } from '../src/cli/run-topics.ts';
import { silentLogger } from '../src/logger.ts';
import { replay } from '../src/replay/index.ts';
import { loadScenario } from '../src/scenario/load.ts';
import type { Transform } from '../src/transforms/contract.ts';
import { StreamRunner } from '../streaming/runtime/runner.ts';
import { freshDatabase } from '../test/support/databases.ts';
import { metering, meteringCutoff, meteringProject } from '../test/support/metering.ts';
import { packRepository, userProject } from '../test/support/package.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const parts = (process.env.BENCH_PARTS ?? 'typed,explain,text,pg').split(',');
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
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
    const ours = await timeIt(() => loadDatabase(duck, 'loaded', { knex: db, table: 'batch_bench', source: 'db:batch_bench', types: 'native' }));
    duck.close();
    if (ours.result.rows !== pgRows) throw new Error(`loaded ${ours.result.rows} of ${pgRows} rows`);
    printFigure({ name: `load ${pgRows.toLocaleString('en')} rows from PostgreSQL into DuckDB (typed, as the comparator lands them)`, ours: pgRows / ours.seconds, reference: pgRows / reference.seconds, referenceName: 'psql \\copy to /dev/null', unit: 'rows/s', kind: 'rate' });
  } finally {
    await db.destroy();
    await admin.raw(`drop database if exists ${name} with (force)`);
    await admin.destroy();
  }
}

/** meter_total_kwh whose stream adds 10 Wh to every reading: a bug on every meter beyond what rounding could be, nothing the events explain. */
const buggyMeterTotals: Transform = {
  ...meterTotalKwh,
  stream: {
    ...meterTotalKwhStream,
    flatMap: (reading, ctx) =>
      meterTotalKwhStream.flatMap(reading, ctx).map((contribution) => ({ ...contribution, values: { ...contribution.values, kwh: sumDecimals([String(contribution.values.kwh), '0.010'], 3) } })),
  },
};

/** The broker the benchmark runs against: KAFKA_BROKERS (the comparator's other benchmarks need none). */
function brokers(): string[] {
  const list = process.env.KAFKA_BROKERS?.split(',').filter(Boolean) ?? [];
  if (list.length === 0) throw new Error('the explain part needs a Kafka broker: set KAFKA_BROKERS (dualrun kafka start prints one), or leave explain out of BENCH_PARTS');
  return list;
}

async function explainBench(meters: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dualrun-bench-explain-'));
  const database = await freshDatabase('pglite');
  const topicPrefix = `bench-explain-${randomUUID().slice(0, 8)}`;
  const kafka = { brokers: brokers(), topicPrefix, partitions: 3 };
  try {
    const scenarioDir = join(dir, 'scenario');
    execFileSync(process.execPath, [join(REPO, 'bin', 'dualrun.js'), 'generate', '--config', join(REPO, 'examples', 'metering', 'dualrun.config.ts'), '--out', scenarioDir, '--seed', '1', '--readings', String(3 * meters), '--meters', String(meters)], { stdio: 'ignore' });
    const scenario = await loadScenario(scenarioDir, meteringProject);
    console.log(`dual run of meter_total_kwh (its stream adding 10 Wh to every reading) over ${scenario.events.length.toLocaleString('en')} metering events, ${meters.toLocaleString('en')} meters`);
    let after: Date | undefined;
    for (const [i, date] of scenario.businessDates.entries()) {
      const until = meteringCutoff(date, scenario.cutoffTime);
      await replay({ domain: metering, createSchema: true, events: scenario.events, db: database.db, kafka, until, ...(after ? { after } : {}), reset: i === 0, logger: silentLogger });
      after = until;
    }
    await runBatch({ db: database.db, engine: 'pglite', transforms: [buggyMeterTotals], businessDate: scenario.businessDates.at(-1)!, cutoff: after!, logger: silentLogger });
    await replay({ domain: metering, events: scenario.events, db: database.db, kafka, after: after!, logger: silentLogger });
    const runner = new StreamRunner({ domain: metering, brokers: brokers(), group: `${topicPrefix}-g`, topicPrefix, transforms: [buggyMeterTotals], fromBeginning: true, untilIdleMs: 2000, logger: silentLogger });
    await runner.start();
    await runner.done;
    const options = { transform: buggyMeterTotals, db: database.db, brokers: brokers(), topicPrefix, watermark: after!, cutoffTime: scenario.cutoffTime };
    const measured: { explainMs: number; referenceMs: number; differences: number; explained: Record<string, number> }[] = [];
    for (let round = 0; round < rounds; round++) {
      const reference = await timeIt(() => compareTransform(options));
      const ours = await compareTransform({ ...options, events: scenario.events });
      const differences = ours.counts.mismatch + ours.counts.onlyLeft + ours.counts.onlyRight;
      if (ours.counts.mismatch !== meters) throw new Error(`expected every one of the ${meters} meters to differ, found ${JSON.stringify(ours.counts)}`);
      if (ours.explained.unexplained !== differences) throw new Error(`expected every difference unexplained (a bug), found ${JSON.stringify(ours.explained)}`);
      const explainMs = ours.durationsMs.explain ?? 0;
      console.log(`round ${round + 1}: ${differences.toLocaleString('en')} differences explained in ${explainMs} ms (${(explainMs / differences).toFixed(2)} ms each); the comparison without events ${Math.round(reference.seconds * 1000)} ms; phases (ms) ${JSON.stringify(ours.durationsMs)}`);
      measured.push({ explainMs, referenceMs: reference.seconds * 1000, differences, explained: ours.explained });
    }
    const middle = median(measured, (round) => round.explainMs / round.referenceMs);
    printFigure({ name: `explain ${middle.differences.toLocaleString('en')} differences on the metering domain (meter_total_kwh, a deliberate stream bug)`, ours: middle.explainMs, reference: middle.referenceMs, referenceName: 'the same comparison with no events (load and diff only)', unit: 'ms', kind: 'time' });
  } finally {
    await database.drop();
    await deleteRunTopics(brokers(), topicPrefix, `${topicPrefix}-g`).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

const median = <T>(items: T[], by: (item: T) => number): T => [...items].sort((a, b) => by(a) - by(b))[Math.floor(items.length / 2)]!;

// The typed files: per 10,000 ids, id ≡ 1 only right, ≡ 2 only left, ≡ 3 amount beyond its tolerance, ≡ 4
// amount within it (abs 0.01, inclusive), ≡ 5 qty differs, ≡ 6 placed_at a second later, ≡ 7 placed_at
// 300 µs later inside its millisecond (equal at the default ms precision), ≡ 8 label differs.
const TYPED_COLUMNS = ['qty', 'amount', 'placed_at', 'label'];
const typedBase = (n: number) => `SELECT i AS id, CAST(i % 1000 AS INTEGER) AS qty, CAST((i % 100000) / 100 AS DECIMAL(12,2)) AS amount,
    TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_milliseconds(i * 1003) AS placed_at, 'item-' || (i % 5000) AS label FROM range(${n}) t(i)`;
const typedRight = (n: number) => `SELECT id,
    CASE WHEN id % 10000 = 5 THEN qty + 1 ELSE qty END AS qty,
    CASE WHEN id % 10000 = 3 THEN CAST(amount + 1 AS DECIMAL(12,2)) WHEN id % 10000 = 4 THEN CAST(amount + 0.01 AS DECIMAL(12,2)) ELSE amount END AS amount,
    CASE WHEN id % 10000 = 6 THEN placed_at + INTERVAL 1 SECOND WHEN id % 10000 = 7 THEN placed_at + to_microseconds(300) ELSE placed_at END AS placed_at,
    CASE WHEN id % 10000 = 8 THEN label || '!' ELSE label END AS label
  FROM (${typedBase(n)}) WHERE id % 10000 <> 2`;

/** How many ids below n are ≡ r (mod 10,000). */
const residues = (n: number, r: number) => Math.floor(n / 10_000) + (n % 10_000 > r ? 1 : 0);

async function typedBench(n: number, installed: string | undefined): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dualrun-bench-typed-'));
  const [left, right] = [join(dir, 'left.parquet'), join(dir, 'right.parquet')];
  try {
    console.log(`generating two Parquet files of ${n.toLocaleString('en')} rows (typed: BIGINT key, INTEGER, DECIMAL(12,2), TIMESTAMPTZ, VARCHAR)`);
    const writer = await openDuck();
    await writer.run(`COPY (${typedBase(n)} WHERE i % 10000 <> 1) TO ${literal(left)} (FORMAT parquet)`);
    await writer.run(`COPY (${typedRight(n)}) TO ${literal(right)} (FORMAT parquet)`);
    writer.close();
    const expected = {
      match: n - 2 * residues(n, 1) - residues(n, 2) - residues(n, 3) - residues(n, 4) - residues(n, 5) - residues(n, 6) - residues(n, 8) + residues(n, 1),
      withinTolerance: residues(n, 4),
      mismatch: residues(n, 3) + residues(n, 5) + residues(n, 6) + residues(n, 8),
      onlyLeft: residues(n, 2),
      onlyRight: residues(n, 1),
    };
    const query = `SELECT count(*) AS n FROM read_parquet(${literal(left)}) l FULL OUTER JOIN read_parquet(${literal(right)}) r USING (id)
      WHERE (${TYPED_COLUMNS.map((c) => `l.${c}`).join(', ')}) IS DISTINCT FROM (${TYPED_COLUMNS.map((c) => `r.${c}`).join(', ')})`;
    // Rows a raw comparison finds different: every injected difference, the one inside its millisecond too.
    const rawDifferent = String(expected.withinTolerance + expected.mismatch + expected.onlyLeft + expected.onlyRight + residues(n, 7));
    const freshProcess = `import { DuckDBInstance } from '@duckdb/node-api';
      const connection = await (await DuckDBInstance.create(':memory:')).connect();
      console.log((await connection.runAndReadAll(${JSON.stringify(query)})).getRowObjectsJson()[0].n);`;
    const out = join(dir, 'report');
    // For where the time goes: the same command on two files of ten rows (start, config, DuckDB, reports, history).
    const [tinyLeft, tinyRight] = [join(dir, 'tiny-left.parquet'), join(dir, 'tiny-right.parquet')];
    const tinyWriter = await openDuck();
    await tinyWriter.run(`COPY (${typedBase(10)}) TO ${literal(tinyLeft)} (FORMAT parquet)`);
    await tinyWriter.run(`COPY (${typedRight(10)}) TO ${literal(tinyRight)} (FORMAT parquet)`);
    tinyWriter.close();
    const ourCompare = (l: string, r: string, o: string, bin = join(REPO, 'bin', 'dualrun.js')) =>
      spawnSync(process.execPath, [bin, 'compare', '--left', `parquet:${l}`, '--right', `parquet:${r}`, '--key', 'id', '--tolerance', 'amount=abs:0.01', '--out', o], { cwd: dir, encoding: 'utf8' });
    const measured: { inProcess: number; fresh: number; ours: number; fixed: number; installed: number; phases: unknown }[] = [];
    for (let round = 0; round < rounds; round++) {
      const inProcess = await timeIt(async () => {
        const duck = await openDuck();
        try {
          return (await duck.rows<{ n: string }>(query))[0]?.n;
        } finally {
          duck.close();
        }
      });
      if (inProcess.result !== rawDifferent) throw new Error(`the in-process reference counted ${inProcess.result} rows, expected ${rawDifferent}`);
      const fresh = await timeIt(async () => spawnSync(process.execPath, ['--input-type=module', '-e', freshProcess], { cwd: REPO, encoding: 'utf8' }));
      if (fresh.result.stdout.trim() !== rawDifferent) throw new Error(`the fresh-process reference printed ${fresh.result.stdout}${fresh.result.stderr}, expected ${rawDifferent}`);
      const ours = await timeIt(async () => ourCompare(left, right, out));
      const fixed = await timeIt(async () => ourCompare(tinyLeft, tinyRight, join(dir, 'tiny-report')));
      if (fixed.result.status !== 1) throw new Error(`dualrun compare of the ten-row files exited ${fixed.result.status} (expected 1): ${fixed.result.stderr}`);
      const fromPackage = installed ? await timeIt(async () => ourCompare(left, right, join(dir, 'installed-report'), installed)) : undefined;
      if (fromPackage && fromPackage.result.status !== 1) throw new Error(`the installed dualrun compare exited ${fromPackage.result.status} (expected 1): ${fromPackage.result.stderr}`);
      if (ours.result.status !== 1) throw new Error(`dualrun compare exited ${ours.result.status} (expected 1, parity violated): ${ours.result.stderr}`);
      const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as { comparisons: { counts: Record<string, number>; durationsMs: Record<string, number> }[] };
      const [comparison] = report.comparisons;
      if (JSON.stringify(comparison?.counts) !== JSON.stringify(expected)) throw new Error(`dualrun compare counted ${JSON.stringify(comparison?.counts)}, expected ${JSON.stringify(expected)}`);
      console.log(
        `round ${round + 1}: in-process reference ${inProcess.seconds.toFixed(3)} s, fresh-process reference ${fresh.seconds.toFixed(3)} s, dualrun compare ${ours.seconds.toFixed(3)} s ` +
          `(${(ours.seconds / inProcess.seconds).toFixed(2)}× / ${(ours.seconds / fresh.seconds).toFixed(2)}×), phases (ms) ${JSON.stringify(comparison?.durationsMs)}; ` +
          `the same command on ten rows ${fixed.seconds.toFixed(3)} s${fromPackage ? `; installed package ${fromPackage.seconds.toFixed(3)} s` : ''}`,
      );
      measured.push({ inProcess: inProcess.seconds, fresh: fresh.seconds, ours: ours.seconds, fixed: fixed.seconds, installed: fromPackage?.seconds ?? NaN, phases: comparison?.durationsMs });
    }
    const name = `dualrun compare, typed Parquet ${n.toLocaleString('en')} vs ${n.toLocaleString('en')} rows (CLI as a child process)`;
    const byInProcess = median(measured, (round) => round.ours / round.inProcess);
    const byFresh = median(measured, (round) => round.ours / round.fresh);
    printFigure({ name, ours: byInProcess.ours, reference: byInProcess.inProcess, referenceName: 'DuckDB FULL OUTER JOIN reading every value, in process', unit: 's', kind: 'time', goal: '≤ 1.5×' });
    printFigure({ name, ours: byFresh.ours, reference: byFresh.fresh, referenceName: 'the same join in a fresh node process', unit: 's', kind: 'time', goal: '≤ 1.5×' });
    if (installed) {
      const installedName = `dualrun compare from the installed package, typed Parquet ${n.toLocaleString('en')} vs ${n.toLocaleString('en')} rows`;
      const packageByInProcess = median(measured, (round) => round.installed / round.inProcess);
      const packageByFresh = median(measured, (round) => round.installed / round.fresh);
      printFigure({ name: installedName, ours: packageByInProcess.installed, reference: packageByInProcess.inProcess, referenceName: 'DuckDB FULL OUTER JOIN reading every value, in process', unit: 's', kind: 'time', goal: '≤ 1.5×' });
      printFigure({ name: installedName, ours: packageByFresh.installed, reference: packageByFresh.fresh, referenceName: 'the same join in a fresh node process', unit: 's', kind: 'time', goal: '≤ 1.5×' });
    }
    const fixedMedian = median(measured, (round) => round.fixed).fixed;
    console.log(`  of which the command's fixed cost (the same command on ten rows, median) ${fixedMedian.toFixed(3)} s; ours less that: ${(byInProcess.ours - fixedMedian).toFixed(3)} s beside the in-process join's ${byInProcess.inProcess.toFixed(3)} s`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** With BENCH_INSTALLED=1: the repository packed and installed into a fresh project; its bin, and a cleanup. */
async function installedPackage(): Promise<{ bin: string | undefined; remove: () => Promise<void> }> {
  if (process.env.BENCH_INSTALLED !== '1') return { bin: undefined, remove: async () => undefined };
  const root = await mkdtemp(join(tmpdir(), 'dualrun-bench-package-'));
  console.log('packing the repository and installing it into a fresh project (BENCH_INSTALLED=1)');
  const project = await userProject(join(root, 'project'), 'commonjs', await packRepository(root));
  return { bin: join(project, 'node_modules', 'dualrun', 'bin', 'dualrun.js'), remove: () => rm(root, { recursive: true, force: true }) };
}

if (parts.includes('typed')) {
  const installed = await installedPackage();
  try {
    for (const n of (process.env.BENCH_TYPED_ROWS ?? '3000000,10000000').split(',').map(Number)) await typedBench(n, installed.bin);
  } finally {
    await installed.remove();
  }
}
if (parts.includes('explain')) await explainBench(Number(process.env.BENCH_METERS ?? 10_000));
if (parts.includes('text')) await compareBench();
if (parts.includes('pg')) await postgresLoadBench();
