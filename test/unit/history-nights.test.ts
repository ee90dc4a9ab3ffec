// The history's nights (compare/nights.ts) and the per-category counts appendHistory records: one night
// per judged cut-off (the latest run wins), a run without one at its run time, files from before the
// categories were recorded still read (and still take appends, from either version), and reading changes nothing.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck } from '../../compare/duck.ts';
import { appendGateVerdicts } from '../../compare/gate-history.ts';
import type { GateVerdict } from '../../compare/gate.ts';
import { appendHistory, readHistory } from '../../compare/history.ts';
import { nightOf, readNights, withCurrent } from '../../compare/nights.ts';
import { writeReports } from '../../compare/report/index.ts';
import type { ComparisonResult, Counts, Report } from '../../compare/types.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dualrun-nights-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const comparison = (name: string, counts: Partial<Counts>, explained: ComparisonResult['explained']): ComparisonResult => {
  const all = { match: 10, withinTolerance: 0, mismatch: 0, onlyLeft: 0, onlyRight: 0, ...counts };
  return {
    name,
    left: { source: 'batch', rows: 10 },
    right: { source: 'stream', rows: 10 },
    key: ['id'],
    counts: all,
    notYetComparable: { left: 0, right: 0, watermark: null, dates: [] }, notRunByBatch: { left: 0, right: 0, dates: [] },
    findings: { duplicateKeys: { left: 0, right: 0, leftRows: 0, rightRows: 0, examples: [] }, nullKeys: { left: 0, right: 0, leftRows: 0, rightRows: 0, examples: [] } },
    schema: { onlyLeft: [], onlyRight: [], typeChanges: [] },
    columns: {},
    samples: [],
    explained,
    differences: [],
    parity: all.mismatch + all.onlyLeft + all.onlyRight === 0,
    durationsMs: {},
  };
};
const report = (generatedAt: string, comparisons: ComparisonResult[]): Report => ({ schemaVersion: 1, tool: 'dualrun', generatedAt, parity: comparisons.every((c) => c.parity), comparisons });
const verdict = (transform: string): GateVerdict => ({ transform, stage: 'shadow', gated: true, passed: true, streak: 1, streakNight: null, reasons: [], allowed: [] });

/** A check: the comparison history and the gate's verdicts with the night judged, as dualrun check appends them. */
async function check(path: string, runAt: string, night: string, comparisons: ComparisonResult[]): Promise<void> {
  await appendHistory(path, report(runAt, comparisons));
  await appendGateVerdicts(path, new Date(runAt), comparisons.map((c) => verdict(c.name)), night);
}

describe('history nights', () => {
  it('keeps one night per cut-off (the latest run), runs without one at their run time, counts per category', async () => {
    const path = join(dir, 'nights.duckdb');
    await check(path, '2024-06-11T01:00:00.000Z', '2024-06-11T00:00:00.000Z', [comparison('orders', { mismatch: 2 }, { late_arrival: 1, join_as_of_event_time: 1 })]);
    // The same night checked again: it replaces the first run.
    await check(path, '2024-06-11T03:00:00.000Z', '2024-06-11T00:00:00.000Z', [comparison('orders', { mismatch: 1 }, { late_arrival: 1 })]);
    await check(path, '2024-06-12T01:00:00.000Z', '2024-06-12T00:00:00.000Z', [comparison('orders', {}, {}), comparison('status', { onlyLeft: 1 }, { unexplained: 1 })]);
    // dualrun compare: no gate verdict, no night.
    await appendHistory(path, report('2024-06-12T09:30:00.000Z', [comparison('orders', { onlyRight: 3 }, { update_delete_semantics: 3 })]));

    const nights = await readNights(path);
    expect([...nights.keys()].sort()).toEqual(['orders', 'status']);
    expect(nights.get('orders')!.map((n) => [n.night, n.nightKnown, n.runAt, n.parity, n.counts.mismatch + n.counts.onlyRight, n.categories])).toEqual([
      ['2024-06-11T00:00:00.000Z', true, '2024-06-11T03:00:00.000Z', false, 1, { late_arrival: 1 }],
      ['2024-06-12T00:00:00.000Z', true, '2024-06-12T01:00:00.000Z', true, 0, {}],
      ['2024-06-12T09:30:00.000Z', false, '2024-06-12T09:30:00.000Z', false, 3, { update_delete_semantics: 3 }],
    ]);
    expect(nights.get('status')!.map((n) => [n.unexplained, n.categories])).toEqual([[1, { unexplained: 1 }]]);
    // The last `limit` nights, oldest first.
    expect((await readNights(path, 2)).get('orders')!.map((n) => n.runAt)).toEqual(['2024-06-12T01:00:00.000Z', '2024-06-12T09:30:00.000Z']);
  });

  it('adds the run being reported in its place among the nights, instead of an earlier run of its night', async () => {
    const path = join(dir, 'nights.duckdb');
    const earlier = (await readNights(path)).get('orders')!;
    const current = nightOf(comparison('orders', { mismatch: 5 }, { rounding: 5 }), '2024-06-12T04:00:00.000Z', '2024-06-12T00:00:00.000Z');
    const merged = withCurrent(earlier, current);
    expect(merged.map((n) => [n.night, n.current === true, n.categories])).toEqual([
      ['2024-06-11T00:00:00.000Z', false, { late_arrival: 1 }],
      ['2024-06-12T00:00:00.000Z', true, { rounding: 5 }],
      ['2024-06-12T09:30:00.000Z', false, { update_delete_semantics: 3 }],
    ]);
    // At most `limit`, the oldest dropped first — never the run being reported.
    expect(withCurrent(earlier, current, 2).map((n) => n.night)).toEqual(['2024-06-12T00:00:00.000Z', '2024-06-12T09:30:00.000Z']);
    const rerunOfOldest = nightOf(comparison('orders', {}, {}), '2024-06-13T01:00:00.000Z', '2024-06-11T00:00:00.000Z');
    expect(withCurrent(earlier, rerunOfOldest, 2).map((n) => [n.night, n.current === true])).toEqual([['2024-06-11T00:00:00.000Z', true], ['2024-06-12T09:30:00.000Z', false]]);
    // A run without a night (dualrun compare) is a night of its own, at its run time.
    expect(withCurrent(earlier, nightOf(comparison('orders', {}, {}), '2024-06-13T01:00:00.000Z')).map((n) => n.current === true)).toEqual([false, false, false, true]);
  });

  it('reads a file from before per-category counts (categories unknown), which both versions can still append to', async () => {
    const path = join(dir, 'old.duckdb');
    const old = await openDuck(path);
    await old.run(`CREATE TABLE parity_history (run_at TIMESTAMPTZ, name VARCHAR, parity BOOLEAN, match BIGINT, within_tolerance BIGINT,
      mismatch BIGINT, only_left BIGINT, only_right BIGINT, unexplained BIGINT)`);
    await old.run("INSERT INTO parity_history VALUES ('2024-06-10T01:00:00Z', 'orders', false, 8, 0, 2, 0, 0, 1)");
    old.close();

    const before = (await readNights(path)).get('orders')!;
    expect(before.map((n) => [n.nightKnown, n.unexplained, n.categories])).toEqual([[false, 1, null]]);

    await appendHistory(path, report('2024-06-11T01:00:00.000Z', [comparison('orders', {}, {})]));
    // An older dualrun appends exactly the nine columns it knows: the table it writes to is unchanged.
    const older = await openDuck(path);
    const appender = await older.connection.createAppender('parity_history');
    appender.appendTimestampTZ(new (await import('@duckdb/node-api')).DuckDBTimestampTZValue(BigInt(Date.parse('2024-06-12T01:00:00Z')) * 1000n));
    appender.appendVarchar('orders');
    appender.appendBoolean(true);
    for (let i = 0; i < 6; i++) appender.appendBigInt(0n);
    appender.endRow();
    appender.flushSync();
    appender.closeSync();
    older.close();

    expect((await readNights(path)).get('orders')!.map((n) => [n.runAt, n.categories])).toEqual([
      ['2024-06-10T01:00:00.000Z', null],
      ['2024-06-11T01:00:00.000Z', {}],
      ['2024-06-12T01:00:00.000Z', null],
    ]);
    expect((await readHistory(path)).map((row) => row.run_at)).toEqual(['2024-06-10T01:00:00Z', '2024-06-11T01:00:00Z', '2024-06-12T01:00:00Z']);
  });

  it('the HTML report draws the nights of the history beside it, and this run in its place', async () => {
    const out = join(dir, 'report');
    await check(join(out, 'history.duckdb'), '2024-06-11T01:00:00.000Z', '2024-06-11T00:00:00.000Z', [comparison('orders', { mismatch: 2 }, { late_arrival: 2 })]);
    await check(join(out, 'history.duckdb'), '2024-06-12T01:00:00.000Z', '2024-06-12T00:00:00.000Z', [comparison('orders', {}, {})]);
    const run = report('2024-06-13T01:00:00.000Z', [comparison('orders', { onlyLeft: 1 }, { update_delete_semantics: 1 })]);
    const [file] = await writeReports(run, out, ['html'], { night: '2024-06-13T00:00:00.000Z' });
    const html = await readFile(file!, 'utf8');
    expect(html.match(/<g class="point /g)).toHaveLength(3);
    expect([...html.matchAll(/<g class="category" data-category="([a-z_]+)"/g)].map((match) => match[1])).toEqual(['late_arrival', 'update_delete_semantics']);
    expect(html).toContain('this run');
    // Its night checked again: the earlier run of that night gives way to this one.
    const again = await readFile((await writeReports(run, out, ['html'], { night: '2024-06-12T00:00:00.000Z' }))[0]!, 'utf8');
    expect(again.match(/<g class="point /g)).toHaveLength(2);
    // A history that cannot be read is said in the report, which is written all the same.
    const notDuckdb = join(dir, 'not-a-history.duckdb');
    await writeFile(notDuckdb, 'this is not a DuckDB file\n');
    const unreadable = await readFile((await writeReports(run, join(dir, 'bad'), ['html'], { history: notDuckdb }))[0]!, 'utf8');
    expect(unreadable).toContain('The history could not be read');
    expect(unreadable).not.toContain('<svg class="history"');
  });

  it('never creates or changes a file by reading it', async () => {
    const missing = join(dir, 'missing.duckdb');
    expect((await readNights(missing)).size).toBe(0);
    expect(existsSync(missing)).toBe(false);
    const path = join(dir, 'nights.duckdb');
    const { mtimeMs, size } = await stat(path);
    await readNights(path);
    expect(await stat(path)).toMatchObject({ mtimeMs, size });
  });
});
