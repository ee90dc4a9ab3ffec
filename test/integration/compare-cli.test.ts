// `dualrun compare` as a user runs it: files, database tables on every engine, a compacted Kafka topic;
// exit 0 parity / 1 violated / 2 bad usage or input with a clear message; reports, --redact, history.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck } from '../../compare/duck.ts';
import { compareRelations } from '../../compare/index.ts';
import type { Report } from '../../compare/types.ts';
import { runCli } from '../support/cli.ts';
import { engines, freshDatabase, type TestDatabase } from '../support/databases.ts';
import { brokers, createTopics, kafkaClient, uniqueTopic } from '../support/kafka.ts';
import { topicOf } from '../../src/model/codec.ts';
import { HEADERS } from '../../src/model/events.ts';
import { shop } from '../support/shop.ts';

let dir: string;
const LEFT = 'id,amount,label\n1,10.00,a\n2,5.50,b\n3,7.25,c\n';
const RIGHT_SAME = 'label,id,amount\nc,3,7.250\na,1,10\nb,2,5.5\n';
const RIGHT_DIFF = 'id,amount,label\n1,10.004,a\n2,5.60,b\n4,1.00,d\n';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dualrun-compare-'));
  await writeFile(join(dir, 'left.csv'), LEFT);
  await writeFile(join(dir, 'same.csv'), RIGHT_SAME);
  await writeFile(join(dir, 'diff.csv'), RIGHT_DIFF);
  await writeFile(join(dir, 'broken.csv'), 'id,amount\n1,2,3,4\n"unterminated\n');
  const duck = await openDuck();
  await duck.run(`COPY (SELECT * FROM read_csv('${join(dir, 'left.csv')}', all_varchar = true)) TO '${join(dir, 'left.parquet')}' (FORMAT parquet)`);
  duck.close();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('dualrun compare: exit codes', () => {
  it('0 when the sides agree (row and column order, number spelling do not matter)', async () => {
    const out = join(dir, 'same');
    const result = await runCli(['compare', '--left', `csv:${join(dir, 'left.csv')}`, '--right', `csv:${join(dir, 'same.csv')}`, '--key', 'id', '--out', out]);
    expect(result.stderr).not.toMatch(/error/);
    expect(result.code).toBe(0);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(report.schemaVersion).toBe(1);
    expect(report.comparisons[0].counts).toEqual({ match: 3, withinTolerance: 0, mismatch: 0, onlyLeft: 0, onlyRight: 0 });
  });

  it('1 when parity is violated; report.json holds counts, findings, columns and explanations; parquet works', async () => {
    const out = join(dir, 'diff');
    const result = await runCli(['compare', '--left', `parquet:${join(dir, 'left.parquet')}`, '--right', `csv:${join(dir, 'diff.csv')}`, '--key', 'id', '--tolerance', 'amount=abs:0.005', '--out', out, '--redact']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/VIOLATED/);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    const c = report.comparisons[0];
    // 1: 10.00 vs 10.004 within 0.005; 2: 5.50 vs 5.60 mismatch; 3 only left; 4 only right.
    expect(c.counts).toEqual({ match: 0, withinTolerance: 1, mismatch: 1, onlyLeft: 1, onlyRight: 1 });
    expect(c.findings).toMatchObject({ duplicateKeys: { left: 0, right: 0 }, nullKeys: { leftRows: 0, rightRows: 0 } });
    expect(c.columns.amount).toMatchObject({ mismatches: 1, withinTolerance: 1, maxAbsDiff: 0.1 });
    expect(c.explained).toEqual({ rounding: 1, unexplained: 3 });
    // --redact: values hidden, keys kept.
    const mismatch = c.samples.find((sample: { category: string }) => sample.category === 'mismatch');
    expect(mismatch.left).toEqual({ id: '2', amount: '‹redacted›', label: '‹redacted›' });
    expect(await readFile(join(out, 'report.md'), 'utf8')).toMatch(/parity violated/);
    expect(await readFile(join(out, 'junit.xml'), 'utf8')).toMatch(/<failure message="parity violated/);
  });

  it('--json --redact hides the sample values on stdout too (CI logs keep stdout)', async () => {
    const result = await runCli(['compare', '--left', `csv:${join(dir, 'left.csv')}`, '--right', `csv:${join(dir, 'diff.csv')}`, '--key', 'id', '--out', join(dir, 'redact-json'), '--json', '--redact']);
    expect(result.code, result.stderr).toBe(1);
    const printed = JSON.parse(result.stdout) as { comparisons: { samples: { category: string; left: unknown; right: unknown }[] }[] };
    const hidden = { amount: '‹redacted›', label: '‹redacted›' };
    expect(printed.comparisons[0]!.samples.map(({ category, left, right }) => ({ category, left, right }))).toEqual([
      { category: 'mismatch', left: { id: '1', ...hidden }, right: { id: '1', ...hidden } },
      { category: 'mismatch', left: { id: '2', ...hidden }, right: { id: '2', ...hidden } },
      { category: 'onlyLeft', left: { id: '3', ...hidden }, right: null },
      { category: 'onlyRight', left: null, right: { id: '4', ...hidden } },
    ]);
    for (const value of ['10.004', '5.60', '7.25']) expect(result.stdout).not.toContain(value);
  });

  it('2 with a clear message for a bad spec, a missing key column, an unreadable file, a missing --db', async () => {
    const left = `csv:${join(dir, 'left.csv')}`;
    const bad = await runCli(['compare', '--left', 'excel:x.xlsx', '--right', left, '--key', 'id']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--left "excel:x.xlsx" is not a source spec\n\s+fix: use csv:PATH/);
    const key = await runCli(['compare', '--left', left, '--right', left, '--key', 'id,region']);
    expect(key.code).toBe(2);
    expect(key.stderr).toMatch(/key column region not found; it has id, amount, label/);
    const missing = await runCli(['compare', '--left', `csv:${join(dir, 'nope.csv')}`, '--right', left, '--key', 'id']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.csv: cannot read the file/);
    const broken = await runCli(['compare', '--left', `csv:${join(dir, 'broken.csv')}`, '--right', left, '--key', 'id']);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/broken\.csv:2:5: expected 2 fields \(id,amount\), found 4: this field is one too many/);
    // No --db, no DATABASE_URL, and dualrun's own embedded database not made yet (a fresh cache folder).
    const noDb = await runCli(['compare', '--left', 'db:batch_x', '--right', left, '--key', 'id'], { DATABASE_URL: '', DUALRUN_CACHE_DIR: join(dir, 'fresh-cache') });
    expect(noDb.code).toBe(2);
    expect(noDb.stderr).toMatch(/needs a database, and dualrun's own embedded one \(pglite:.*fresh-cache\/pglite\) holds nothing yet\n {2}fix: give --db URL/);
    const tolerance = await runCli(['compare', '--left', left, '--right', left, '--key', 'id', '--tolerance', 'amount=0.1']);
    expect(tolerance.code).toBe(2);
    expect(tolerance.stderr).toMatch(/--tolerance "amount=0.1": expected COL=abs:X/);
  });

  it('2 naming the column, both types and the fix when a typed column meets text that is not of its type', async () => {
    const typed = join(dir, 'typed.parquet');
    const duck = await openDuck();
    await duck.run(`COPY (SELECT * FROM (VALUES (1, 10.5::DOUBLE, DATE '2024-01-01'), (2, 3.0, DATE '2024-01-02')) t(id, amount, day)) TO '${typed}' (FORMAT parquet)`);
    duck.close();
    await writeFile(join(dir, 'text-amount.csv'), 'id,amount,day\n1,abc,2024-01-01\n2,3,2024-01-02\n');
    await writeFile(join(dir, 'text-day.csv'), 'id,amount,day\n1,10.5,2024-01-01\n2,3,soon\n');
    await writeFile(join(dir, 'text-ok.csv'), 'id,amount,day\n1,10.50,2024-01-01\n2,3,2024-01-02\n');
    const out = join(dir, 'types');

    const amount = await runCli(['compare', '--left', `parquet:${typed}`, '--right', `csv:${join(dir, 'text-amount.csv')}`, '--key', 'id', '--out', out]);
    expect(amount.code, amount.stderr).toBe(2);
    expect(amount.stderr).toContain(`column amount is DOUBLE (a number) in parquet:${typed} but text (VARCHAR) in csv:${join(dir, 'text-amount.csv')}, where "abc" is not a number`);
    expect(amount.stderr).toMatch(/fix: give amount one type on both sides/);

    const day = await runCli(['compare', '--left', `csv:${join(dir, 'text-day.csv')}`, '--right', `parquet:${typed}`, '--key', 'id', '--out', out]);
    expect(day.code, day.stderr).toBe(2);
    expect(day.stderr).toContain(`column day is DATE (a date) in parquet:${typed} but text (VARCHAR) in csv:${join(dir, 'text-day.csv')}, where "soon" is not a date`);

    // Text whose every value is of the typed side's kind is compared as that kind.
    const ok = await runCli(['compare', '--left', `parquet:${typed}`, '--right', `csv:${join(dir, 'text-ok.csv')}`, '--key', 'id', '--out', out]);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('2 for a run rule that does not fit its column, naming the flag as typed', async () => {
    const args = ['compare', '--left', `csv:${join(dir, 'left.csv')}`, '--right', `csv:${join(dir, 'diff.csv')}`, '--key', 'id', '--out', join(dir, 'rules')];
    const text = await runCli([...args, '--tolerance', 'label=abs:0.01']);
    expect(text.code).toBe(2);
    expect(text.stderr).toContain('error: --tolerance label=abs:0.01: column label holds text and no number ("a", …); a tolerance applies to numbers\n  fix: drop --tolerance label=abs:0.01, or name a number column');
    const precision = await runCli([...args, '--rule', 'amount=precision:ms']);
    expect(precision.code).toBe(2);
    expect(precision.stderr).toContain('error: --rule amount=precision:ms: column amount is compared as numbers; this rule applies to instants');
    const trim = await runCli([...args, '--rule', 'amount=trim']);
    expect(trim.code).toBe(2);
    expect(trim.stderr).toContain('error: --rule amount=trim: column amount is compared as numbers; this rule applies to text');
    const unknown = await runCli([...args, '--rule', 'nope=trim']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('error: --rule nope=trim: neither side has a column nope (they have id, amount, label)\n  fix: name a column of both sides in --rule\n');
    // The rules that fit still work, a tolerance on numbers with a few that are not too ("N/A" equals only itself).
    expect((await runCli([...args, '--tolerance', 'amount=abs:0.005', '--rule', 'label=nocase'])).code).toBe(1);
    await writeFile(join(dir, 'na-left.csv'), 'id,amount\n1,N/A\n2,3.00\n');
    await writeFile(join(dir, 'na-right.csv'), 'id,amount\n1,N/A\n2,3.004\n');
    const na = await runCli(['compare', '--left', `csv:${join(dir, 'na-left.csv')}`, '--right', `csv:${join(dir, 'na-right.csv')}`, '--key', 'id', '--tolerance', 'amount=abs:0.005', '--out', join(dir, 'rules')]);
    expect(na.code, na.stderr).toBe(0);
  });

  it('shows number keys of two integer types (INTEGER vs BIGINT in Parquet) as written, not as decimals', async () => {
    const duck = await openDuck();
    await duck.run(`COPY (SELECT * FROM (VALUES (1::INTEGER, 'a'), (2::INTEGER, 'b'), (-3::INTEGER, 'c'), (10::INTEGER, 'e')) t(id, v)) TO '${join(dir, 'int.parquet')}' (FORMAT parquet)`);
    await duck.run(`COPY (SELECT * FROM (VALUES (1::BIGINT, 'a'), (2::BIGINT, 'x'), (40::BIGINT, 'd'), (10::BIGINT, 'e')) t(id, v)) TO '${join(dir, 'bigint.parquet')}' (FORMAT parquet)`);
    duck.close();
    const result = await runCli(['compare', '--left', `parquet:${join(dir, 'int.parquet')}`, '--right', `parquet:${join(dir, 'bigint.parquet')}`, '--key', 'id', '--out', join(dir, 'int-keys'), '--json']);
    expect(result.code, result.stderr).toBe(1);
    const c = (JSON.parse(result.stdout) as Report).comparisons[0]!;
    expect(c.counts).toEqual({ match: 2, withinTolerance: 0, mismatch: 1, onlyLeft: 1, onlyRight: 1 });
    expect(c.samples.map((sample) => sample.key)).toEqual([{ id: '2' }, { id: '-3' }, { id: '40' }]);
    expect(c.differences.map((difference) => difference.key.id).sort()).toEqual(['-3', '2', '40']);
  });

  it('--out holds this run\'s reports only: --format md removes an earlier run\'s report.json, report.html and junit.xml', async () => {
    const out = join(dir, 'formats');
    const args = ['compare', '--left', `csv:${join(dir, 'left.csv')}`, '--right', `csv:${join(dir, 'same.csv')}`, '--key', 'id', '--out', out];
    expect((await runCli(args)).code).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['history.duckdb', 'junit.xml', 'report.html', 'report.json', 'report.md']);
    const md = await runCli([...args, '--format', 'md']);
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toContain(`reports: ${join(out, 'report.md')}\n`);
    expect((await readdir(out)).sort()).toEqual(['history.duckdb', 'report.md']);
  });

  it('a mismatch names only the columns that differ beyond their rules, not those within tolerance', async () => {
    await writeFile(join(dir, 'both.csv'), 'id,amount,label\n1,10.004,z\n2,5.50,b\n3,7.25,c\n');
    const result = await runCli(['compare', '--left', `csv:${join(dir, 'left.csv')}`, '--right', `csv:${join(dir, 'both.csv')}`, '--key', 'id', '--tolerance', 'amount=abs:0.005', '--out', join(dir, 'columns'), '--json']);
    expect(result.code, result.stderr).toBe(1);
    const c = (JSON.parse(result.stdout) as Report).comparisons[0]!;
    expect(c.counts).toEqual({ match: 2, withinTolerance: 0, mismatch: 1, onlyLeft: 0, onlyRight: 0 });
    expect(c.samples.map(({ category, columns }) => ({ category, columns }))).toEqual([{ category: 'mismatch', columns: ['label'] }]);
    expect(c.differences.map(({ columns }) => columns)).toEqual([['label']]);
    expect(c.columns.amount).toMatchObject({ mismatches: 0, withinTolerance: 1 });
  });

  it('history and status never create the file they were asked to read', async () => {
    const typo = join(dir, 'typo.duckdb');
    const history = await runCli(['compare', 'history', '--history', typo]);
    expect(history.code).toBe(2);
    expect(history.stderr).toContain(`error: --history ${typo}: no such file`);
    const status = await runCli(['status', '--history', typo]);
    expect(status.code).toBe(2);
    expect(status.stderr).toContain(`error: --history ${typo}: no such file`);
    expect(existsSync(typo)).toBe(false);
    // Where nothing has run yet (the default paths): an empty answer, and still no file.
    const fresh = join(dir, 'fresh-project');
    await mkdir(fresh);
    const none = await runCli(['compare', 'history'], {}, 60_000, fresh);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toBe('no runs recorded in dualrun-report/history.duckdb yet\n');
    const board = await runCli(['status'], {}, 60_000, fresh);
    expect(board.code, board.stderr).toBe(0);
    expect(existsSync(join(fresh, 'dualrun-report'))).toBe(false);
  });

  it('history: every run appended, shown per comparison', async () => {
    const out = join(dir, 'hist');
    const args = ['compare', '--left', `csv:${join(dir, 'left.csv')}`, '--right', `csv:${join(dir, 'diff.csv')}`, '--key', 'id', '--out', out, '--format', 'json', '--name', 'x'].filter((arg) => arg !== '--name' && arg !== 'x');
    expect((await runCli(args)).code).toBe(1);
    expect((await runCli(args)).code).toBe(1);
    const history = await runCli(['compare', 'history', '--out', out]);
    expect(history.code).toBe(0);
    const lines = history.stdout.split('\n').filter((line) => /VIOLATED/.test(line));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/VIOLATED\s+0\s+0\s+2\s+1\s+1\s+4$/);
  });
});

describe.each(engines)('db: loader on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await freshDatabase(engine);
    await database.db.schema.createTable('batch_orders', (table) => {
      table.string('order_id');
      table.date('business_date');
      table.decimal('amount', 12, 2);
      table.timestamp('placed_at', { useTz: true, precision: 3 });
      table.integer('lines');
      table.string('note');
    });
    await database.db('batch_orders').insert([
      { order_id: 'A', business_date: '2024-10-27', amount: '12.50', placed_at: new Date('2024-10-26T22:30:00.000Z'), lines: 2, note: '' },
      { order_id: 'B', business_date: '2024-10-27', amount: '0.10', placed_at: new Date('2024-10-27T01:30:00.250Z'), lines: 1, note: null },
      { order_id: null, business_date: '2024-10-28', amount: null, placed_at: null, lines: null, note: 'x' },
    ]);
  });
  afterAll(async () => database?.drop());

  it('reads values in the pinned representation: exact decimals, dates unshifted, instants in UTC', async () => {
    // An empty string ("") and NULL (nothing) stay apart.
    const rows = ['order_id,business_date,amount,placed_at,lines,note', 'A,2024-10-27,12.5,2024-10-26T22:30:00.000Z,2,""', 'B,2024-10-27,0.1,2024-10-27T01:30:00.250Z,1,'];
    await writeFile(join(dir, `expected-${engine}.csv`), `${rows.join('\n')}\n`);
    const result = await compareRelations({ left: { kind: 'db', table: 'batch_orders' }, right: { kind: 'csv', path: join(dir, `expected-${engine}.csv`) }, key: ['order_id'], db: database.db });
    expect(result.counts).toEqual({ match: 2, withinTolerance: 0, mismatch: 0, onlyLeft: 0, onlyRight: 0 });
    expect(result.findings.nullKeys.leftRows).toBe(1);
    const swapped = ['order_id,business_date,amount,placed_at,lines,note', 'A,2024-10-27,12.5,2024-10-26T22:30:00.000Z,2,', 'B,2024-10-27,0.1,2024-10-27T01:30:00.250Z,1,""'];
    await writeFile(join(dir, `swapped-${engine}.csv`), `${swapped.join('\n')}\n`);
    const apart = await compareRelations({ left: { kind: 'db', table: 'batch_orders' }, right: { kind: 'csv', path: join(dir, `swapped-${engine}.csv`) }, key: ['order_id'], db: database.db });
    expect(apart.counts.mismatch).toBe(2);
    expect(apart.columns.note?.mismatches).toBe(2);
    expect(result.left.rows).toBe(3);
  });

  it('a missing table is a clear error', async () => {
    const result = await runCli(['compare', '--left', 'db:no_such_table', '--right', `csv:${join(dir, 'left.csv')}`, '--key', 'id', '--db', database.url]);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/no_such_table: cannot read it/);
  });
});

describe('kafka: loader', () => {
  it('a compacted output topic: latest value per key, tombstones delete', async () => {
    const topic = uniqueTopic('compare-out');
    await createTopics([topic], 2);
    const producer = kafkaClient().producer();
    await producer.connect();
    const message = (key: string[], value: object | null) => ({ key: JSON.stringify(key), value: value === null ? null : JSON.stringify(value) });
    await producer.send({
      topic,
      messages: [
        message(['2024-10-27', 'north'], { business_date: '2024-10-27', region: 'north', order_count: 1, revenue_eur: '10.00' }),
        message(['2024-10-27', 'south'], { business_date: '2024-10-27', region: 'south', order_count: 1, revenue_eur: '5.00' }),
        message(['2024-10-27', 'north'], { business_date: '2024-10-27', region: 'north', order_count: 2, revenue_eur: '20.50' }),
        message(['2024-10-27', 'south'], null),
        message(['2024-10-27', 'west'], { business_date: '2024-10-27', region: 'west', order_count: 3, revenue_eur: '7.00' }),
      ],
    });
    await producer.disconnect();
    await writeFile(join(dir, 'revenue.csv'), 'business_date,region,order_count,revenue_eur\n2024-10-27,north,2,20.5\n2024-10-27,west,3,7.001\n');
    const result = await runCli(['compare', '--left', `csv:${join(dir, 'revenue.csv')}`, '--right', `kafka:${topic}`, '--key', 'business_date,region', '--brokers', brokers().join(','), '--tolerance', 'revenue_eur=abs:0.005', '--out', join(dir, 'kafka'), '--json']);
    expect(result.stderr).not.toMatch(/error/);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).comparisons[0].counts).toEqual({ match: 1, withinTolerance: 1, mismatch: 0, onlyLeft: 0, onlyRight: 0 });
  });

  it('a message that breaks the output convention is an error naming topic, partition and offset', async () => {
    const topic = uniqueTopic('compare-bad');
    await createTopics([topic]);
    const producer = kafkaClient().producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: '["a"]', value: '{"id":"a"}' }, { key: '["b"]', value: 'not json' }] });
    await producer.disconnect();
    const result = await runCli(['compare', '--left', `csv:${join(dir, 'left.csv')}`, '--right', `kafka:${topic}`, '--key', 'id', '--brokers', brokers().join(',')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${topic}[0]@1: value is not JSON`);
  });

  it('a topic that does not exist is a usage error', async () => {
    const result = await runCli(['compare', '--left', `csv:${join(dir, 'left.csv')}`, '--right', `kafka:${uniqueTopic('missing')}`, '--key', 'id', '--brokers', brokers().join(',')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/topic .* does not exist/);
  });
});

describe('dualrun compare --transform', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await freshDatabase('postgres');
  });
  afterAll(async () => database?.drop());

  it('compares db:batch_NAME with kafka:PREFIX.out.NAME under the contract and explains from the input topics', async () => {
    const prefix = uniqueTopic('cmp');
    await database.db.schema.createTable('batch_order_status_current', (table) => {
      table.string('order_id');
      table.string('customer_id');
      table.string('status');
    });
    await database.db('batch_order_status_current').insert([
      { order_id: 'o1', customer_id: 'c1', status: 'placed' },
      { order_id: 'o2', customer_id: 'c1', status: 'paid' },
    ]);
    const out = `${prefix}.out.order_status_current`;
    const orders = topicOf(shop.entity('orders')!, prefix);
    // Input events carry past event times as timestamps: kept forever, or retention deletes them mid-test.
    await createTopics([out, ...shop.entities.map((entity) => topicOf(entity, prefix))], 1, [{ name: 'retention.ms', value: '-1' }]);
    const producer = kafkaClient().producer();
    await producer.connect();
    await producer.send({
      topic: out,
      messages: [
        { key: '["o1"]', value: JSON.stringify({ order_id: 'o1', customer_id: 'c1', status: 'shipped' }) },
        { key: '["o2"]', value: JSON.stringify({ order_id: 'o2', customer_id: 'c1', status: 'paid' }) },
      ],
    });
    const envelope = (eventId: string, type: string, eventTime: string, payload: object) => ({
      key: 'o1',
      value: JSON.stringify({ eventId, type, eventTime, schemaVersion: 1, payload }),
      timestamp: String(Date.parse(eventTime)),
      headers: { [HEADERS.eventId]: eventId, [HEADERS.type]: type, [HEADERS.eventTime]: eventTime, [HEADERS.arrivalTime]: eventTime },
    });
    await producer.send({
      topic: orders,
      messages: [
        envelope('ord-o1', 'OrderPlaced', '2024-06-03T08:00:00.000Z', { orderId: 'o1', customerId: 'c1', currency: 'EUR', placedAt: '2024-06-03T08:00:00.000Z', lines: [{ lineNo: 1, productId: 'p1', quantity: 1, unitPrice: '1.00', discountPct: '0' }] }),
        envelope('ord-o1-shipped', 'OrderStatusChanged', '2024-06-03T09:00:00.000Z', { orderId: 'o1', status: 'shipped' }),
      ],
    });
    await producer.disconnect();
    const dir2 = join(dir, 'transform');
    // The batch last ran (08:30) after o1 was placed and before it shipped: that accounts for placed vs shipped.
    const result = await runCli(['compare', '--transform', 'order_status_current', '--db', database.url, '--brokers', brokers().join(','), '--topic-prefix', prefix, '--events', '--out', dir2, '--watermark', '2024-06-03T08:30:00Z']);
    expect(result.stderr).not.toMatch(/error/);
    expect(result.code).toBe(1);
    const report = JSON.parse(await readFile(join(dir2, 'report.json'), 'utf8'));
    const c = report.comparisons[0];
    expect(c.name).toBe('order_status_current');
    expect(c.counts).toEqual({ match: 1, withinTolerance: 0, mismatch: 1, onlyLeft: 0, onlyRight: 0 });
    // Every column the pipeline produces is checked against what the events predict, customer_id too.
    // Its timeline: the shipping event arriving at 09:00, after the batch's 08:30 watermark.
    const timeline = { cutoff: '2024-06-03T08:30:00.000Z', events: [{ id: 'ord-o1-shipped', type: 'OrderStatusChanged', entity: 'orders', eventTime: '2024-06-03T09:00:00.000Z', arrivalTime: '2024-06-03T09:00:00.000Z', redelivery: false }] };
    expect(c.differences).toEqual([{ key: { order_id: 'o1' }, category: 'mismatch', columns: ['status'], explanation: 'update_delete_semantics', events: ['ord-o1-shipped'], reason: expect.any(String), checked: ['customer_id', 'status'], timeline }]);
    const junit = await readFile(join(dir2, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testcase classname="dualrun.parity" name="order_status_current"/);
  });
});
