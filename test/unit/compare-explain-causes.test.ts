// The explainers' causes one by one, on the scenarios' real input events and outputs worked out by hand from
// them (each case says how): a day cut at UTC midnight (a documented difference when the batch does it, a bug
// when the stream does), a window by arrival time (likewise), redeliveries counted again, several causes
// adding up on one row, and the limits (no events, a key the events cannot be traced by).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareRelations, contractOptions, type ComparisonResult } from '../../compare/index.ts';
import { openDuck, type Duck } from '../../compare/duck.ts';
import type { Transform } from '../../src/transforms/contract.ts';
import { dailyOrdersByTier, dailyOrdersByTierWith } from '../../examples/shop-extension/daily-orders-by-tier.ts';
import { fixtures, loadShopScenario as loadScenario, shopCutoff as cutoffFor, shopTransforms } from '../support/shop.ts';

const contract = (name: string) => shopTransforms.find((c) => c.name === name)!;

type Rows = (string | null)[][];

// The outputs are worked out by hand; the transformation given is the correct one (its pipeline predicts
// both sides), whatever the rows' author did wrong.
async function run(scenario: string, transform: Transform, left: Rows, right: Rows, options: { watermark?: Date; events?: boolean; batchDates?: string[] } = {}): Promise<ComparisonResult> {
  const loaded = await loadScenario(join(fixtures, scenario));
  const watermark = options.watermark ?? cutoffFor(loaded.businessDates.at(-1)!, loaded.cutoffTime);
  const duck: Duck = await openDuck();
  try {
    const columns = transform.columns.map((column) => column.name);
    return await compareRelations({
      ...contractOptions(transform, watermark),
      transform,
      ...(options.events === false ? {} : { events: loaded.events }),
      batchDates: options.batchDates ?? loaded.businessDates,
      watermark,
      cutoffTime: loaded.cutoffTime,
      left: { kind: 'rows', name: 'batch', columns, rows: left },
      right: { kind: 'rows', name: 'stream', columns, rows: right },
      duck,
    });
  } finally {
    duck.close();
  }
}

const summary = (result: ComparisonResult) => Object.fromEntries(result.differences.map((d) => [Object.values(d.key).join(' '), `${d.explanation} ${[...d.events].sort().join(',')}`]));

describe('day boundaries: who cuts the day at UTC midnight decides', () => {
  // dst-boundary: T2 (silver) and T3 (standard) are placed 22:30 and 23:30 UTC on 26 Oct, i.e. on 27 Oct in
  // Stockholm; T8 (gold) arrives after 27 Oct's window closed. Batch by Stockholm days: 26 Oct gold 1 (T1);
  // 27 Oct gold 3 (T4 T5 T8), silver 2 (T2 T6), standard 2 (T3 T7). A correct stream: the same without T8.
  const stockholm = { batch: [['2024-10-26', 'gold', '1'], ['2024-10-27', 'gold', '3'], ['2024-10-27', 'silver', '2'], ['2024-10-27', 'standard', '2']], stream: [['2024-10-26', 'gold', '1'], ['2024-10-27', 'gold', '2'], ['2024-10-27', 'silver', '2'], ['2024-10-27', 'standard', '2']] };
  // Cut at UTC midnight, T2 and T3 count on 26 Oct (what `dualrun check` got from the broken example's stream).
  const utc = [['2024-10-26', 'gold', '1'], ['2024-10-26', 'silver', '1'], ['2024-10-26', 'standard', '1'], ['2024-10-27', 'silver', '1'], ['2024-10-27', 'standard', '1']];

  it('a stream cutting at UTC midnight is a bug: its rows are unexplained, the late arrival on another key stays explained', async () => {
    const result = await run('dst-boundary', dailyOrdersByTier, stockholm.batch, [...utc, ['2024-10-27', 'gold', '2']]);
    expect(result.explained).toEqual({ unexplained: 4, late_arrival: 1 });
    expect(summary(result)).toEqual({
      '2024-10-26 silver': 'unexplained ord-T2',
      '2024-10-26 standard': 'unexplained ord-T3',
      '2024-10-27 silver': 'unexplained ord-T2',
      '2024-10-27 standard': 'unexplained ord-T3',
      '2024-10-27 gold': 'late_arrival ord-T8',
    });
    for (const d of result.differences.filter((d) => d.explanation === 'unexplained')) expect(d.reason).toMatch(/cutting the business day at UTC midnight.*bug in the streaming job/);
  });

  it('a pipeline that itself cuts at UTC midnight is diagnosed from the contract, though it predicts both sides alike', async () => {
    // What `dualrun check` has: the configured transformation is the broken one, so re-running it predicts
    // the batch wrong too; the contract (day windows by placedAt in Stockholm) still says where T2 and T3 belong.
    const broken = dailyOrdersByTierWith((placedAt) => placedAt.slice(0, 10));
    const result = await run('dst-boundary', broken, stockholm.batch, [...utc, ['2024-10-27', 'gold', '2']]);
    expect(result.explained).toEqual({ unexplained: 4, late_arrival: 1 });
    expect(summary(result)).toEqual({
      '2024-10-26 silver': 'unexplained ord-T2',
      '2024-10-26 standard': 'unexplained ord-T3',
      '2024-10-27 silver': 'unexplained ord-T2',
      '2024-10-27 standard': 'unexplained ord-T3',
      '2024-10-27 gold': 'late_arrival ord-T8',
    });
    const t2 = result.differences.find((d) => Object.values(d.key).join(' ') === '2024-10-27 silver')!;
    expect(t2.reason).toMatch(/puts 1 orders row on another business_date than the contract's: ord-T2 \(placedAt 2024-10-26T22:30:00(\.000)?Z: Europe\/Stockholm day 2024-10-27, put on 2024-10-26\)/);
    for (const d of result.differences.filter((d) => d.explanation === 'unexplained')) expect(d.reason).toMatch(/cutting the business day at UTC midnight.*bug in the streaming job/);
    // The correct pipeline on the same rows dates nothing wrongly: the diagnosis comes from the pipeline, not the rows.
    const correct = await run('dst-boundary', dailyOrdersByTier, stockholm.batch, [...utc, ['2024-10-27', 'gold', '2']]);
    expect(correct.differences.some((d) => d.reason.includes("than the contract's"))).toBe(false);
  });

  it('rows of a date the batch never ran are "not run by batch": counted, not compared, whatever they hold', async () => {
    // The batch ran 2024-10-26 only; its table holds that night's row, the stream both days'.
    const result = await run('dst-boundary', dailyOrdersByTier, [stockholm.batch[0]!], [...utc, ['2024-10-27', 'gold', '2']], { batchDates: ['2024-10-26'] });
    expect(result.notRunByBatch).toEqual({ left: 0, right: 3, dates: ['2024-10-27'] });
    // 26 Oct: gold matches; silver and standard are T2 and T3 cut at UTC midnight, diagnosed as before.
    expect(result.counts).toEqual({ match: 1, withinTolerance: 0, mismatch: 0, onlyLeft: 0, onlyRight: 2 });
    expect(summary(result)).toEqual({ '2024-10-26 silver': 'unexplained ord-T2', '2024-10-26 standard': 'unexplained ord-T3' });
    // Every date run: nothing is left out.
    expect((await run('dst-boundary', dailyOrdersByTier, stockholm.batch, stockholm.stream)).notRunByBatch).toEqual({ left: 0, right: 0, dates: [] });
  });

  it('a batch cutting at UTC midnight is the documented day-boundary difference', async () => {
    // The batch run for 26 Oct (UTC) sees T2 and T3, which arrived before its cut-off; 27 Oct's does not.
    const result = await run('dst-boundary', dailyOrdersByTier, [...utc, ['2024-10-27', 'gold', '3']], stockholm.stream);
    expect(result.explained).toEqual({ day_boundary: 4, late_arrival: 1 });
    expect(summary(result)['2024-10-26 silver']).toBe('day_boundary ord-T2');
    expect(summary(result)['2024-10-27 standard']).toBe('day_boundary ord-T3');
  });
});

describe('processing time: who windows by arrival decides', () => {
  // late-arrivals: L4 (north, 17.00) and L5 (south, 8.50) are placed on 10 Jun and arrive on 11 Jun (Stockholm).
  // By event time the batch counts L4 on 10 Jun (before the cut-off) and the stream drops both as late.
  const common = [['2024-06-10', 'south', '1', '20.00'], ['2024-06-11', 'east', '1', '40.00'], ['2024-06-11', 'west', '1', '20.00']];
  const byArrival = [['2024-06-10', 'north', '1', '28.50'], ['2024-06-11', 'north', '1', '17.00'], ['2024-06-11', 'south', '1', '8.50']];

  it('a batch counting orders on the day they arrived is the documented processing-time difference', async () => {
    const result = await run('late-arrivals', contract('daily_revenue_by_region'), [...common, ...byArrival], [...common, ['2024-06-10', 'north', '1', '28.50']]);
    expect(summary(result)).toEqual({ '2024-06-11 north': 'processing_time ord-L4', '2024-06-11 south': 'processing_time ord-L5' });
  });

  it('a stream windowing by arrival is a bug, and the order it moved explains no other row', async () => {
    const result = await run('late-arrivals', contract('daily_revenue_by_region'), [...common, ['2024-06-10', 'north', '2', '45.50']], [...common, ...byArrival]);
    expect(result.explained).toEqual({ unexplained: 3 });
    const reasons = Object.fromEntries(result.differences.map((d) => [Object.values(d.key).join(' '), d.reason]));
    expect(reasons['2024-06-11 south']).toMatch(/windowing by arrival \(processing\) time.*bug/);
    // 10 Jun north alone looks like L4 arriving late; but the stream counted L4 on 11 Jun.
    expect(reasons['2024-06-10 north']).toMatch(/ord-L4 also land\(s\) elsewhere/);
  });
});

describe('redeliveries counted again', () => {
  // duplicates: U1 (north, 20.00) is delivered twice, U3 (east, 17.00) three times, the stream's windows still open.
  it('a stream that does not deduplicate: exactly the redeliveries account for the extra counts', async () => {
    const batch = [['2024-06-24', 'north', '1', '20.00'], ['2024-06-25', 'east', '1', '17.00']];
    const result = await run('duplicates', contract('daily_revenue_by_region'), batch, [['2024-06-24', 'north', '2', '40.00'], ['2024-06-25', 'east', '3', '51.00']]);
    expect(summary(result)).toEqual({ '2024-06-24 north': 'duplicate_delivery ord-U1', '2024-06-25 east': 'duplicate_delivery ord-U3' });
    // Counting U3 twice instead of three times is not what a redelivery does.
    const partial = await run('duplicates', contract('daily_revenue_by_region'), batch, [['2024-06-24', 'north', '1', '20.00'], ['2024-06-25', 'east', '2', '34.00']]);
    expect(summary(partial)).toEqual({ '2024-06-25 east': 'unexplained ' });
  });

  it('a status event redelivered after a later one sets an undeduplicated status back', async () => {
    // U2: paid, shipped, then "paid" again (a redelivery); the batch's row stays shipped.
    const result = await run('duplicates', contract('order_status_current'), [['U2', 'C2', 'shipped']], [['U2', 'C2', 'paid']]);
    expect(summary(result)).toEqual({ U2: 'duplicate_delivery ord-U2-paid' });
  });
});

describe('several causes on one row', () => {
  // cancellations-and-deletes compared as if the batch last ran on 1 Jul (cut-off 2 Jul 00:00 UTC) while the
  // stream processed everything: X4 (C4, 28.50) deleted and X6 (C4, 25.50) placed after that; X2 (C2, 17.00)
  // cancelled after it; X7 (C3, 20.00) placed after it.
  const watermark = cutoffFor('2024-07-01');
  const batch = [
    ['C2', '1', '0', '17.00', '2024-07-01T09:00:00.000Z', '2024-07-01T09:00:00.000Z'],
    ['C3', '0', '1', '0.00', null, null],
    ['C4', '1', '0', '28.50', '2024-07-01T11:00:00.000Z', '2024-07-01T11:00:00.000Z'],
  ];
  const stream = [
    ['C2', '0', '1', '0.00', null, null],
    ['C3', '1', '1', '20.00', '2024-07-02T09:00:00.000Z', '2024-07-02T09:00:00.000Z'],
    ['C4', '1', '0', '25.50', '2024-07-02T09:30:00.000Z', '2024-07-02T09:30:00.000Z'],
  ];

  it('adds up their effects, names the main one and the others, and checks first/last order times', async () => {
    const result = await run('cancellations-and-deletes', contract('customer_lifetime_value'), batch, stream, { watermark });
    expect(summary(result)).toEqual({ C2: 'update_delete_semantics ord-X2-cancelled', C3: 'late_arrival ord-X7', C4: 'late_arrival ord-X4-deleted,ord-X6' });
    const c4 = result.differences.find((d) => d.key.customer_id === 'C4')!;
    expect(c4.also).toEqual(['update_delete_semantics']);
    expect(c4.reason).toMatch(/which add up to the difference/);
    expect(c4.checked).toEqual(['order_count', 'cancelled_count', 'revenue_eur', 'first_order_at', 'last_order_at']);
  });

  it('a last order time no cause gives is a bug', async () => {
    const wrong = stream.map((row) => (row[0] === 'C4' ? [...row.slice(0, 5), '2024-07-02T10:00:00.000Z'] : row));
    const result = await run('cancellations-and-deletes', contract('customer_lifetime_value'), batch, wrong, { watermark });
    expect(summary(result).C4).toBe('unexplained ');
  });
});

describe('what cannot be checked is not explained', () => {
  it('without input events nothing is explained by them', async () => {
    const result = await run('late-arrivals', contract('daily_revenue_by_region'), [['2024-06-10', 'north', '2', '45.50']], [['2024-06-10', 'north', '1', '28.50']], { events: false });
    expect(result.differences[0]).toMatchObject({ explanation: 'unexplained', reason: expect.stringMatching(/no input events were loaded/) });
  });

  it('a key the pipeline never writes', async () => {
    // The contract's key names a column its pipeline does not give: the pipeline predicts no such row on either side.
    const byChannel: Transform = { ...dailyOrdersByTier, key: ['business_date', 'channel'], columns: [{ name: 'business_date', type: 'date' }, { name: 'channel', type: 'string' }, { name: 'order_count', type: 'integer' }] };
    const result = await run('late-arrivals', byChannel, [['2024-06-10', 'web', '2']], [['2024-06-10', 'web', '1']]);
    expect(result.differences[0]).toMatchObject({ explanation: 'unexplained', reason: expect.stringMatching(/they predict no difference between the two sides \(the batch no row, the stream no row\)/) });
  });

  it('without a pipeline (two relations compared) nothing is explained by the events', async () => {
    const { stream: _stream, ...contractOnly } = contract('daily_revenue_by_region');
    const result = await run('late-arrivals', contractOnly as unknown as Transform, [['2024-06-10', 'north', '2', '45.50']], [['2024-06-10', 'north', '1', '28.50']]);
    expect(result.differences[0]).toMatchObject({ explanation: 'unexplained', reason: expect.stringMatching(/no transformation pipeline to recompute the sides from/) });
  });

  it('without the events or a pipeline, a difference of less than a cent is not called rounding either', async () => {
    // revenue_eur 45.50 vs 45.504, no tolerance declared beyond the contract's: only a tolerance or the events could excuse it.
    const { stream: _stream, ...contractOnly } = contract('daily_revenue_by_region');
    const rows = (revenue: string) => [['2024-06-10', 'north', '2', revenue]];
    const noPipeline = await run('late-arrivals', { ...contractOnly, columns: contractOnly.columns.map((column) => ({ ...column, rule: {} })) } as unknown as Transform, rows('45.50'), rows('45.504'));
    expect(noPipeline.differences[0]).toMatchObject({ explanation: 'unexplained', reason: expect.stringMatching(/no transformation pipeline/) });
    const noEvents = await run('late-arrivals', { ...contract('daily_revenue_by_region'), columns: contract('daily_revenue_by_region').columns.map((column) => ({ ...column, rule: {} })) } as Transform, rows('45.50'), rows('45.504'), { events: false });
    expect(noEvents.differences[0]).toMatchObject({ explanation: 'unexplained', reason: expect.stringMatching(/no input events were loaded/) });
  });

  it("a user's numeric column no rule derives is reported as not checked; the count still has to add up", async () => {
    const withTotal: Transform = { ...dailyOrdersByTier, columns: [...dailyOrdersByTier.columns, { name: 'basket_score', type: 'decimal' }] };
    const batch = [['2024-10-27', 'gold', '3', '7.5']];
    const explained = await run('dst-boundary', withTotal, batch, [['2024-10-27', 'gold', '2', '5.0']]);
    expect(explained.differences[0]).toMatchObject({ explanation: 'late_arrival', events: ['ord-T8'], checked: ['order_count'], reason: expect.stringMatching(/not checked .*: basket_score/) });
    const offByTwo = await run('dst-boundary', withTotal, batch, [['2024-10-27', 'gold', '1', '5.0']]);
    expect(offByTwo.differences[0]?.explanation).toBe('unexplained');
  });
});
