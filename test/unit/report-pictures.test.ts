// The report's pictures on hand-made timelines and nights: the time axis (minutes, days, a gap cut out),
// the timeline SVG (one lane per delivery, two marks per lane, a rule per instant that decides a side,
// each labelled), its text form for the Markdown report, the history chart, and the empty cases.
import { describe, expect, it } from 'vitest';
import type { Night } from '../../compare/nights.ts';
import { historyChartSvg, historyNotes } from '../../compare/report/history-chart.ts';
import { redactReport, renderHtml, renderMarkdown } from '../../compare/report/index.ts';
import { formatDuration, timeAxis } from '../../compare/report/time-axis.ts';
import { timelineModel, timelineText } from '../../compare/report/timeline.ts';
import { timelineSvg } from '../../compare/report/timeline-svg.ts';
import type { ComparisonResult, Report, Timeline } from '../../compare/types.ts';

const ms = (iso: string): number => Date.parse(iso);
const count = (svg: string, pattern: RegExp): number => svg.match(new RegExp(pattern.source, 'g'))?.length ?? 0;
/** The numbers of one attribute on the elements of a class, in document order. */
const attributeOf = (svg: string, cls: string, attribute: string): number[] =>
  [...svg.matchAll(new RegExp(`<[a-z]+ class="${cls}"[^>]*? ${attribute}="([-\\d.]+)"`, 'g'))].map((match) => Number(match[1]));

// A late arrival (after its window closed, before the cut-off), the joined customer row that changed, and a redelivery three days later.
const lateWithRedelivery: Timeline = {
  events: [
    { id: 'ord-L4', type: 'OrderPlaced', entity: 'orders', eventTime: '2024-06-10T21:50:00.000Z', arrivalTime: '2024-06-10T23:15:00.000Z', redelivery: false },
    { id: 'cust-C1', type: 'CustomerUpserted', entity: 'customers', eventTime: '2024-06-10T23:20:00.000Z', arrivalTime: '2024-06-10T23:21:00.000Z', redelivery: false },
    { id: 'ord-L4', type: 'OrderPlaced', entity: 'orders', eventTime: '2024-06-10T21:50:00.000Z', arrivalTime: '2024-06-14T03:00:00.000Z', redelivery: true },
  ],
  cutoff: '2024-06-11T00:00:00.000Z',
  window: { id: '2024-06-10', end: '2024-06-10T22:00:00.000Z', graceEnd: '2024-06-10T22:30:00.000Z', closedAt: '2024-06-10T22:41:00.000Z' },
};

describe('time axis', () => {
  it('labels minutes for a story of minutes, in order, inside its bounds', () => {
    const instants = ['10:00', '10:03', '10:07', '10:20'].map((t) => ms(`2024-06-10T${t}:00Z`));
    const axis = timeAxis(instants, 200, 800)!;
    expect(axis.breaks).toEqual([]);
    const xs = instants.map(axis.x);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    expect(xs[0]).toBeGreaterThanOrEqual(200);
    expect(xs.at(-1)).toBeLessThanOrEqual(800);
    expect(axis.ticks.length).toBeGreaterThan(3);
    expect(axis.ticks.map((tick) => tick.label)).toContain('10:10');
    expect(axis.ticks[0]!.date).toBe('2024-06-10');
    // Proportional: 10:20 is as far from 10:07 as 10:07 is from 09:54 would be.
    expect((xs[3]! - xs[2]!) / (xs[2]! - xs[0]!)).toBeCloseTo(13 / 7, 5);
  });

  it('labels days for a span of days', () => {
    const instants = Array.from({ length: 15 }, (_, i) => ms(`2024-06-${String(i + 1).padStart(2, '0')}T12:00:00Z`));
    const axis = timeAxis(instants, 200, 800)!;
    expect(axis.breaks).toEqual([]);
    expect(axis.ticks.every((tick) => /^\d{2}-\d{2}$/.test(tick.label))).toBe(true);
    expect(axis.ticks.map((tick) => tick.label)).toContain('06-08');
  });

  it('cuts out a gap that dwarfs the story, and says how long it is', () => {
    const story = ['21:50', '22:00', '22:30', '22:41', '23:15'].map((t) => ms(`2024-06-10T${t}:00Z`));
    const later = ms('2024-06-14T03:00:00Z');
    const axis = timeAxis([...story, later], 200, 800)!;
    expect(axis.breaks).toHaveLength(1);
    expect(axis.breaks[0]!.gapMs).toBe(later - story.at(-1)!);
    expect(axis.x(story.at(-1)!) - axis.x(story[0]!)).toBeGreaterThan(300); // the story keeps most of the width
    expect(axis.x(later)).toBeGreaterThan(axis.breaks[0]!.x1);
  });

  it('keeps instants spread evenly on one linear axis (no gap dwarfs the others)', () => {
    const axis = timeAxis(['2024-06-10T20:00:00Z', '2024-06-11T00:00:00Z', '2024-06-11T06:00:00Z'].map(ms), 200, 800)!;
    expect(axis.breaks).toEqual([]);
    expect(axis.segments).toHaveLength(1);
  });

  it('places a single instant mid-axis with one tick, and nothing when there is nothing', () => {
    const axis = timeAxis([ms('2024-06-10T10:00:30Z')], 200, 800)!;
    expect(axis.x(ms('2024-06-10T10:00:30Z'))).toBe(500);
    expect(axis.ticks.map((tick) => tick.label)).toContain('10:00:30');
    expect(timeAxis([], 200, 800)).toBeNull();
    expect(timeAxis([NaN], 200, 800)).toBeNull();
  });

  it('writes durations in at most two units', () => {
    expect(formatDuration(85 * 60_000)).toBe('1 h 25 min');
    expect(formatDuration(85 * 60_000, true)).toBe('+1 h 25 min');
    expect(formatDuration(-3 * 60_000, true)).toBe('−3 min');
    expect(formatDuration(0, true)).toBe('0 s');
    expect(formatDuration((3 * 24 + 5) * 3_600_000 + 59_000)).toBe('3 d 5 h');
    expect(formatDuration(24 * 3_600_000 + 30 * 60_000)).toBe('1 d');
    expect(formatDuration(250)).toBe('250 ms');
  });
});

describe('timeline model and text', () => {
  it('places each arrival against the window close and the cut-off', () => {
    const model = timelineModel(lateWithRedelivery);
    expect(model.rules.map((rule) => rule.kind)).toEqual(['window-end', 'grace-end', 'window-closed', 'cutoff']);
    expect(model.lanes.map((lane) => [lane.id, lane.delivery, lane.redelivery, lane.late, lane.verdicts.join(', ')])).toEqual([
      ['ord-L4', 1, false, true, 'after the window closed, before the batch cut-off'],
      ['cust-C1', 1, false, true, 'after the window closed, before the batch cut-off'],
      ['ord-L4', 2, true, true, 'after the window closed, after the batch cut-off'],
    ]);
  });

  it('tells the story one instant a line, oldest first', () => {
    expect(timelineText(lateWithRedelivery)).toEqual([
      '2024-06-10 21:50  ○ ord-L4 OrderPlaced (orders): event time (delivered 2×)',
      '2024-06-10 22:00  ┆ window 2024-06-10 ends',
      '2024-06-10 22:30  ┆ window end + grace',
      '2024-06-10 22:41  ┆ window closed',
      '2024-06-10 23:15  ▶ ord-L4 arrives 1 h 25 min after its event time: after the window closed, before the batch cut-off',
      '2024-06-10 23:20  ○ cust-C1 CustomerUpserted (customers): event time',
      '2024-06-10 23:21  ▶ cust-C1 arrives 1 min after its event time: after the window closed, before the batch cut-off',
      '2024-06-11 00:00  ┃ batch cut-off',
      '2024-06-14 03:00  ▶ ord-L4 arrives again (redelivery 2) 3 d 5 h after its event time: after the window closed, after the batch cut-off',
    ]);
    expect(timelineText({ events: [], cutoff: '2024-06-11T00:00:00.000Z' })).toEqual([]);
  });
});

describe('timeline SVG', () => {
  const svg = timelineSvg(lateWithRedelivery, { title: '2024-06-10 / north: mismatch explained by late_arrival' });

  it('draws two marks per delivery, joined, with the redelivery on a dashed lane of its own', () => {
    expect(count(svg, /<g class="lane/)).toBe(3);
    expect(count(svg, /class="mark event-time"/)).toBe(3);
    expect(count(svg, /class="mark arrival"/)).toBe(3);
    expect(count(svg, /<line class="delivery"/)).toBe(3);
    expect(count(svg, /<g class="lane redelivery" data-event="ord-L4" data-delivery="2"/)).toBe(1);
    expect(svg).toMatch(/<g class="lane redelivery"[^]*?<line class="delivery"[^>]*stroke-dasharray="4 3"/);
    expect(svg).toContain('ord-L4 ↻ redelivery 2');
    expect(svg).toContain('CustomerUpserted · customers');
  });

  it('draws one labelled rule per deciding instant, in time order', () => {
    for (const kind of ['window-end', 'grace-end', 'window-closed', 'cutoff']) expect(count(svg, new RegExp(`<g class="rule ${kind}"`))).toBe(1);
    for (const text of ['window 2024-06-10 ends 06-10 22:00', 'window end + grace 06-10 22:30', 'window closed 06-10 22:41', 'batch cut-off 06-11 00:00']) expect(svg).toContain(text);
    const xs = [...svg.matchAll(/<g class="rule [a-z-]+" data-at="[^"]+"><line x1="([\d.]+)"/g)].map((match) => Number(match[1]));
    expect(xs).toHaveLength(4);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    expect(svg).toContain('<rect class="grace"');
  });

  it('puts marks where their instants are: the arrival after the event, the late arrival beyond the close', () => {
    const events = attributeOf(svg, 'mark event-time', 'cx');
    const closed = Number(/<g class="rule window-closed"[^>]*><line x1="([\d.]+)"/.exec(svg)![1]);
    const cutoff = Number(/<g class="rule cutoff"[^>]*><line x1="([\d.]+)"/.exec(svg)![1]);
    const tips = [...svg.matchAll(/class="mark arrival" d="M[\d.]+ [\d.]+L([\d.]+) /g)].map((match) => Number(match[1]));
    expect(events[0]).toBe(events[2]); // the redelivery has the same event time
    expect(tips[0]).toBeGreaterThan(closed);
    expect(tips[0]).toBeLessThan(cutoff);
    expect(tips[2]).toBeGreaterThan(cutoff);
    const width = Number(/viewBox="0 0 (\d+) /.exec(svg)![1]);
    for (const x of [...events, ...tips]) expect(x).toBeLessThanOrEqual(width);
    // Three days of nothing between the cut-off and the redelivery are cut out, and said so.
    expect(svg).toContain('≈ 3 d 3 h not drawn');
    expect(count(svg, /<g class="break">/)).toBe(1);
  });

  it('says what it shows in its title and, in words, in its description', () => {
    expect(svg).toContain('<title>Timeline of 2024-06-10 / north: mismatch explained by late_arrival</title>');
    expect(svg).toContain('2024-06-10 22:41  ┆ window closed');
  });

  it('draws no window rules for an output without windows, and escapes what it is given', () => {
    const plain = timelineSvg({ events: [{ id: 'ord-<X>', type: 'OrderDeleted', entity: 'orders', eventTime: '2024-07-02T08:00:00.000Z', arrivalTime: '2024-07-02T08:01:00.000Z', redelivery: false }], cutoff: '2024-07-02T00:00:00.000Z' });
    expect(count(plain, /<g class="rule /)).toBe(1);
    expect(plain).toContain('batch cut-off 00:00');
    expect(plain).toContain('ord-&lt;X&gt;');
    expect(plain).not.toContain('ord-<X>');
    expect(count(plain, /class="mark /)).toBe(2);
  });

  it('draws nothing for a timeline without deliveries', () => {
    expect(timelineSvg({ events: [] })).toBe('');
    expect(timelineSvg({ events: [], cutoff: '2024-07-02T00:00:00.000Z', window: { id: '2024-07-01', end: '2024-07-01T22:00:00.000Z', graceEnd: '2024-07-01T22:30:00.000Z' } })).toBe('');
  });
});

const night = (day: number, overrides: Partial<Night> = {}): Night => ({
  name: 'daily_revenue_by_region',
  night: `2024-06-${String(day).padStart(2, '0')}T00:00:00.000Z`,
  nightKnown: true,
  runAt: `2024-06-${String(day).padStart(2, '0')}T00:10:00.000Z`,
  parity: true,
  counts: { match: 99, withinTolerance: 0, mismatch: 1, onlyLeft: 0, onlyRight: 0 },
  unexplained: 0,
  categories: { late_arrival: 1 },
  ...overrides,
});

describe('history chart', () => {
  const nights = [
    night(10, { categories: null }),
    night(11, { parity: false, unexplained: 2, counts: { match: 96, withinTolerance: 0, mismatch: 4, onlyLeft: 0, onlyRight: 0 }, categories: { late_arrival: 2, unexplained: 2 } }),
    night(12, { nightKnown: false, categories: {}, counts: { match: 100, withinTolerance: 0, mismatch: 0, onlyLeft: 0, onlyRight: 0 } }),
    night(13, { current: true, categories: { late_arrival: 3, join_as_of_event_time: 1 } }),
  ];
  const svg = historyChartSvg('daily_revenue_by_region', nights);

  it('draws one point per night: a dot with parity, a cross without, the rate written above', () => {
    expect(count(svg, /<g class="point parity"/)).toBe(3);
    expect(count(svg, /<g class="point violated"/)).toBe(1);
    expect(svg).toMatch(/<g class="point violated"[^>]*><title>[^<]*<\/title><path d="M/);
    for (const rate of ['99.00', '96.0', '100']) expect(svg).toContain(`>${rate}</text>`);
    expect(svg).toContain('>95</text>'); // the panel starts below the worst night
  });

  it('draws one row per category seen, one cell per night, "–" where it was not recorded', () => {
    expect([...svg.matchAll(/<g class="category" data-category="([a-z_]+)"/g)].map((match) => match[1])).toEqual(['join_as_of_event_time', 'late_arrival', 'unexplained']);
    expect(count(svg, /<g class="cell"/)).toBe(3 * nights.length);
    expect([...svg.matchAll(/<g class="cell" data-count="(\d*)"/g)].map((match) => match[1])).toEqual(['', '0', '0', '1', '', '2', '0', '3', '0', '2', '0', '0']);
    expect(svg).toContain('this run');
    expect(svg).toContain('>06-12*</text>');
    expect(historyNotes(nights)).toHaveLength(2);
  });

  it('says when there is no difference at all, and draws nothing without nights', () => {
    const quiet = historyChartSvg('x', [night(10, { categories: {}, counts: { match: 5, withinTolerance: 0, mismatch: 0, onlyLeft: 0, onlyRight: 0 } })]);
    expect(quiet).toContain('differences: none on these nights');
    expect(count(quiet, /<g class="point /)).toBe(1);
    expect(historyChartSvg('x', [])).toBe('');
  });
});

describe('the reports carry the pictures', () => {
  const comparison = {
    name: 'daily_revenue_by_region',
    left: { source: 'batch', rows: 4 },
    right: { source: 'stream', rows: 4 },
    key: ['business_date', 'region'],
    counts: { match: 3, withinTolerance: 0, mismatch: 1, onlyLeft: 0, onlyRight: 0 },
    notYetComparable: { left: 0, right: 0, watermark: null, dates: [] }, notRunByBatch: { left: 0, right: 0, dates: [] },
    findings: { duplicateKeys: { left: 0, right: 0, leftRows: 0, rightRows: 0, examples: [] }, nullKeys: { left: 0, right: 0, leftRows: 0, rightRows: 0, examples: [] } },
    schema: { onlyLeft: [], onlyRight: [], typeChanges: [] },
    columns: {},
    samples: [],
    explained: { late_arrival: 2 },
    differences: [
      { key: { business_date: '2024-06-10', region: 'north' }, category: 'mismatch', columns: ['order_count'], explanation: 'late_arrival', events: ['ord-L4'], reason: 'arrived after its window closed', timeline: lateWithRedelivery },
      { key: { business_date: '2024-06-10', region: 'west' }, category: 'mismatch', columns: ['order_count'], explanation: 'late_arrival', events: [], reason: 'no events' },
    ],
    parity: false,
    durationsMs: {},
  } satisfies ComparisonResult;
  const report: Report = { schemaVersion: 1, tool: 'dualrun', generatedAt: '2024-06-11T01:00:00.000Z', parity: false, comparisons: [comparison] };

  it('HTML: a figure with its picture per difference that has a timeline, linked from the table, and the nights', () => {
    const html = renderHtml(report, { history: new Map([[comparison.name, [night(10), night(11, { current: true })]]]) });
    expect(count(html, /<figure class="timeline"/)).toBe(1);
    expect(html).toContain('<a href="#c0-d0">2024-06-10 / north</a>');
    expect(count(html, /<svg class="timeline"/)).toBe(1);
    expect(count(html, /<svg class="timeline-legend"/)).toBe(1);
    expect(count(html, /<svg class="history"/)).toBe(1);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(renderHtml(report, { history: new Map([[comparison.name, [night(11, { current: true })]]]) })).toContain('No earlier night in the history yet');
    expect(renderHtml(report)).not.toContain('<svg class="history"');
  });

  it('Markdown: the text timeline under the table, folded, with a blank line after the fold', () => {
    const md = renderMarkdown(report);
    expect(md).toContain('<details><summary>In time: the difference above, one line per instant (UTC)</summary>');
    expect(md).toContain('```text\n2024-06-10 21:50  ○ ord-L4 OrderPlaced (orders): event time (delivered 2×)\n');
    expect(md).toContain('</details>\n\n');
    expect(md).not.toContain('region: west** —');
  });
});

describe('marks set side by side', () => {
  it('never cross a rule: an arrival just before the window closed stays before it', () => {
    const svg = timelineSvg({
      events: [{ id: 'rd-1', type: 'ReadingTaken', entity: 'readings', eventTime: '2024-06-10T22:40:00.000Z', arrivalTime: '2024-06-10T22:40:30.000Z', redelivery: false }],
      window: { id: '2024-06-10', end: '2024-06-10T20:00:00.000Z', graceEnd: '2024-06-10T20:30:00.000Z', closedAt: '2024-06-10T22:41:00.000Z' },
      cutoff: '2024-06-11T08:00:00.000Z',
    });
    const closed = Number(/<g class="rule window-closed"[^>]*><line x1="([\d.]+)"/.exec(svg)![1]);
    const event = attributeOf(svg, 'mark event-time', 'cx')[0]!;
    const tip = Number(/class="mark arrival" d="M[\d.]+ [\d.]+L([\d.]+) /.exec(svg)![1]);
    const centre = tip - 4.5;
    expect(centre).toBeGreaterThanOrEqual(event);
    expect(centre).toBeLessThan(closed);
  });
});

describe('--redact', () => {
  it('leaves the reasons, which quote values, out of the pictures’ captions', () => {
    const difference = { key: { order_id: 'L5' }, category: 'onlyRight' as const, columns: [], explanation: 'late_arrival' as const, events: ['ord-L5'], reason: 'the events predict the stream net_amount 8.50', timeline: lateWithRedelivery };
    const comparison = { name: 'orders_enriched', left: { source: 'b', rows: 0 }, right: { source: 's', rows: 1 }, key: ['order_id'], counts: { match: 0, withinTolerance: 0, mismatch: 0, onlyLeft: 0, onlyRight: 1 }, notYetComparable: { left: 0, right: 0, watermark: null, dates: [] }, notRunByBatch: { left: 0, right: 0, dates: [] }, findings: { duplicateKeys: { left: 0, right: 0, leftRows: 0, rightRows: 0, examples: [] }, nullKeys: { left: 0, right: 0, leftRows: 0, rightRows: 0, examples: [] } }, schema: { onlyLeft: [], onlyRight: [], typeChanges: [] }, columns: {}, samples: [], explained: { late_arrival: 1 }, differences: [difference], parity: false, durationsMs: {} } satisfies ComparisonResult;
    const report: Report = { schemaVersion: 1, tool: 'dualrun', generatedAt: '2024-06-11T01:00:00.000Z', parity: false, comparisons: [comparison] };
    expect(renderHtml(report)).toContain('net_amount 8.50');
    const redacted = renderHtml(report, { redacted: true });
    expect(redacted).not.toContain('net_amount 8.50');
    expect(count(redacted, /class="mark event-time"/)).toBe(3);
    // The JSON report (and --json on stdout) too: the reason gives way to its category's meaning; ids and times stay.
    const json = JSON.stringify(redactReport(report));
    expect(json).not.toContain('8.50');
    expect(redactReport(report).comparisons[0]!.differences[0]).toMatchObject({ key: { order_id: 'L5' }, events: ['ord-L5'], timeline: lateWithRedelivery, reason: expect.stringMatching(/^An event arrived after its window closed .*‹redacted›/) });
  });
});
