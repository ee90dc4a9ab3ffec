// `dualrun teach coupling`, the parts that need no service: finding and renaming a column's references in
// compiled SQL (chapter 3's fix), what a poll sees of a change (chapter 5), rows in a driver's answer (the
// knex-events count), the charts' scales, the three renderings, and the command's usage errors.
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { changesIn } from '../../src/cli/teach/capture.ts';
import { seenByPoll } from '../../src/cli/teach/chapter-5-polling.ts';
import { chartSvg, renderHtml } from '../../src/cli/teach/render-html.ts';
import { barLengths, logRange, renderChapterText, renderMarkdown, textBars, wrap } from '../../src/cli/teach/render-text.ts';
import { rowsInResponse } from '../../src/cli/teach/source-load.ts';
import { columnReferences, renameColumnReferences, tableAliases } from '../../src/cli/teach/sql-columns.ts';
import type { Chart, ChapterResult } from '../../src/cli/teach/types.ts';
import { ExitCode } from '../../src/errors.ts';

describe('column references in compiled SQL', () => {
  const postgres = 'select "e"."order_id", "c"."region", "c"."tier" from (select 1) as "e" left join "customers" as "c" on "c"."customer_id" = "e"."customer_id"';
  const mariadb = "select COALESCE(c.region, 'unknown') AS region, count(*) from `orders` as `o` left join `customers` as `c` on `c`.`customer_id` = `o`.`customer_id` group by COALESCE(c.region, 'unknown')";

  it('finds the aliases a table is given', () => {
    expect(tableAliases(postgres, 'customers')).toEqual(['customers', 'c']);
    expect(tableAliases(mariadb, 'customers')).toEqual(['customers', 'c']);
    expect(tableAliases(mariadb, 'orders')).toEqual(['orders', 'o']);
  });

  it('counts references through an alias, quoted either way or not at all, and nothing else', () => {
    expect(columnReferences(postgres, 'customers', 'region')).toBe(1);
    expect(columnReferences(mariadb, 'customers', 'region')).toBe(2);
    // The output alias "AS region" and another table's column of the same name are not references.
    expect(columnReferences('select "o"."region" from "orders" as "o"', 'customers', 'region')).toBe(0);
    expect(columnReferences('select customers.region_code from customers', 'customers', 'region')).toBe(0);
    expect(columnReferences('select customers.region from customers', 'customers', 'region')).toBe(1);
  });

  it('renames them keeping their quoting', () => {
    expect(renameColumnReferences(postgres, 'customers', 'region', 'sales_region')).toBe(postgres.replace('"c"."region"', '"c"."sales_region"'));
    expect(renameColumnReferences(mariadb, 'customers', 'region', 'sales_region')).toBe(mariadb.replaceAll('c.region', 'c.sales_region'));
    expect(renameColumnReferences('select `c`.`region` from `customers` as `c`', 'customers', 'region', 'sales_region')).toBe('select `c`.`sales_region` from `customers` as `c`');
  });
});

describe('what a poll sees of a change', () => {
  const poll = { rows: [{ order_id: 'A1', status: 'shipped' }] };
  const copy = new Map([['A1', 'shipped'], ['B1', 'placed']]);
  const changes = [
    { orderId: 'A1', change: 'paid' },
    { orderId: 'B1', change: 'deleted' },
    { orderId: 'A1', change: 'shipped' },
  ];
  it('an update overwritten before the poll is missed, the last one seen, a delete missed while the copy keeps the row', () => {
    expect(changes.map((change, index) => seenByPoll(change, changes.slice(index + 1), poll, copy))).toEqual([false, false, true]);
    expect(seenByPoll(changes[1]!, [], poll, new Map([['A1', 'shipped']]))).toBe(true);
  });
});

describe('what log-based capture saw of a table (chapter 5)', () => {
  const event = (op: string, row: Record<string, unknown>, lsn: number) => ({
    key: Buffer.from(JSON.stringify({ order_id: row.order_id })),
    value: Buffer.from(JSON.stringify({ op, before: op === 'd' ? row : null, after: op === 'd' ? null : row, source: { lsn, ts_ms: 1_700_000_000_000 + lsn, table: 'orders' } })),
  });
  it('every change after the snapshot, in log order: the snapshot rows and the tombstone are not changes', () => {
    const messages = [
      event('r', { order_id: 'A1', status: 'placed' }, 1),
      event('c', { order_id: 'C1', status: 'placed' }, 2),
      event('u', { order_id: 'A1', status: 'paid' }, 3),
      event('d', { order_id: 'B1' }, 4),
      { key: Buffer.from('{"order_id":"B1"}'), value: null },
      event('u', { order_id: 'A1', status: 'shipped' }, 5),
    ];
    expect(changesIn(messages).map(({ key, op, after }) => ({ key, op, status: after?.status ?? null }))).toEqual([
      { key: { order_id: 'C1' }, op: 'create', status: 'placed' },
      { key: { order_id: 'A1' }, op: 'update', status: 'paid' },
      { key: { order_id: 'B1' }, op: 'delete', status: null },
      { key: { order_id: 'A1' }, op: 'update', status: 'shipped' },
    ]);
    expect(changesIn(messages)[0]!.at).toBe(new Date(1_700_000_000_002).toISOString());
  });
  it('names what is wrong with an event that is not Debezium\'s', () => {
    expect(() => changesIn([{ key: null, value: Buffer.from('{"op":"x"}') }])).toThrow('a change event does not decode: op is "x", not one of c, r, u, d');
  });
});

describe('rows in a driver answer', () => {
  it('pg and PGlite results, builder arrays, mysql2 raw selects and statements', () => {
    expect(rowsInResponse({ rows: [{}, {}], rowCount: 2 })).toBe(2);
    expect(rowsInResponse([{ a: 1 }, { a: 2 }, { a: 3 }])).toBe(3);
    expect(rowsInResponse([[{ a: 1 }], [{ name: 'a' }]])).toBe(1);
    expect(rowsInResponse([{ affectedRows: 7, insertId: 0 }, undefined])).toBe(0);
    expect(rowsInResponse(undefined)).toBe(0);
  });
});

const chart = (scale: Chart['scale'], values: number[]): Chart => ({ title: 't', unit: 'seconds', scale, bars: values.map((value, index) => ({ label: `b${index}`, value, text: String(value), side: index % 2 === 0 ? 'batch' : 'stream' })) });

describe('chart scales', () => {
  it('linear: proportional to the largest, a zero bar has no length, a tiny one at least 1', () => {
    expect(barLengths(chart('linear', [100, 50, 0, 0.1]), 30)).toEqual([30, 15, 0, 1]);
    expect(barLengths(chart('linear', [0, 0]), 30)).toEqual([0, 0]);
  });
  it('log: decades from the one below the smallest value to the one above the largest', () => {
    expect(logRange([0.2, 42_880])).toEqual([-1, 5]);
    expect(logRange([1, 10])).toEqual([-1, 1]);
    expect(barLengths(chart('log', [0.2, 42_880]), 60)).toEqual([Math.round(((Math.log10(0.2) + 1) / 6) * 60), Math.round(((Math.log10(42_880) + 1) / 6) * 60)]);
  });
  it('text bars put the value beside the bar', () => {
    expect(textBars(chart('linear', [2, 1]), 4)).toEqual(['b0  ████ 2', 'b1  ██ 1']);
  });
});

function result(number: number): ChapterResult {
  return {
    number,
    slug: `c${number}`,
    title: `Chapter title ${number}`,
    question: 'A question?',
    story: ['First <step> with `code`.', 'Second step.'],
    figure: { caption: 'The figure', header: ['side', 'rows | read'], rows: [['batch', '1,644'], ['stream', '0']], chart: chart(number === 2 ? 'log' : 'linear', [1644, 0]) },
    lesson: 'The lesson drawn from the figure.',
    notes: ['a note'],
    claim: { text: 'batch > 0, stream = 0', holds: number !== 4 },
    seconds: 1.25,
    ran: { engine: 'postgres', database: 'dualrun_teach_x', topicPrefix: 'teachx' },
    measured: {},
  };
}
const info = { startedAt: '2026-01-02T03:04:05.000Z', database: 'postgres://postgres@127.0.0.1:5432/postgres', brokers: '127.0.0.1:9092' };

describe('renderings', () => {
  it('terminal: plain without colour, ANSI with; paragraphs wrapped; the claim marked', () => {
    const plain = renderChapterText(result(1), { color: false, width: 60 });
    expect(plain).not.toContain('\u001b[');
    expect(plain).toContain('Chapter 1 · Chapter title 1');
    expect(plain).toContain('✓ this run shows it: batch > 0, stream = 0');
    expect(renderChapterText(result(4), { color: false, width: 60 })).toContain('✗ this run does not show it');
    expect(renderChapterText(result(1), { color: true, width: 60 })).toContain('\u001b[1m');
    expect(wrap('aaa bbb ccc ddd', 8)).toEqual(['aaa bbb', 'ccc ddd']);
  });

  it('Markdown: a section per chapter, the figure as a table (pipes escaped) and as text bars, the lesson quoted', () => {
    const markdown = renderMarkdown([result(1), result(2)], info);
    expect(markdown.match(/^## /gm)).toHaveLength(2);
    expect(markdown).toContain('| side | rows \\| read |');
    expect(markdown).toContain('| batch | 1,644 |');
    expect(markdown).toContain('> **Lesson.** The lesson drawn from the figure.');
  });

  it('HTML: one chart per chapter, a bar per figure, everything escaped, nothing fetched', () => {
    const html = renderHtml([1, 2, 3, 4, 5].map(result), info);
    expect(html.match(/<section class="chapter"/g)).toHaveLength(5);
    expect(html.match(/<svg class="chart"/g)).toHaveLength(5);
    expect(html.match(/<g class="bar"/g)).toHaveLength(10);
    expect(html).toContain('First &lt;step&gt; with <code>code</code>.');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(chartSvg(chart('log', [0.2, 42_880]), 2)).toContain('>100k s<');
  });
});

describe('dualrun teach (usage)', () => {
  async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await main(argv, { out: (text) => (out += `${text}\n`), err: (text) => (err += `${text}\n`) });
    return { code, out, err };
  }
  it('--help lists the chapters', async () => {
    const { code, out } = await run('teach', '--help');
    expect(code).toBe(ExitCode.ok);
    expect(out).toMatch(/1 {2}Load on the source\n {2}2 {2}Freshness\n {2}3 {2}Schema coupling\n {2}4 {2}Fan-out\n {2}5 {2}What polling misses/);
  });
  it('no lesson, an unknown lesson, a chapter out of range: exit 2 with the fix', async () => {
    expect(await run('teach')).toMatchObject({ code: ExitCode.usage, err: expect.stringContaining('dualrun teach needs a lesson') });
    expect(await run('teach', 'cohesion')).toMatchObject({ code: ExitCode.usage, err: expect.stringContaining('no lesson "cohesion"') });
    const { code, err } = await run('teach', 'coupling', '--chapter', '6');
    expect(code).toBe(ExitCode.usage);
    expect(err).toContain('--chapter expects a chapter number from 1 to 5, got "6"');
  });
});
