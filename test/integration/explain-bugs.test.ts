// A real bug in a streaming half, on the same key as a genuine semantic difference, end to end: the scenario
// replayed night by night into the legacy database (PGlite) and Kafka, the batch job at each cut-off, the
// streaming job run to idle, the outputs compared. late-arrivals' row (2024-06-10, north) differs because L4
// arrived after its window closed (batch 2 orders, 45.50; stream 1, 28.50). A stream that also cuts revenue
// to whole euros makes the same row differ by 17.50 instead of 17.00: it must be unexplained, not
// late_arrival — and with the correct stream the row is late_arrival, proved by ord-L4.
import { describe, expect, it } from 'vitest';
import { runBatch } from '../../batch/runner.ts';
import { compareTransform, type ComparisonResult } from '../../compare/index.ts';
import { silentLogger } from '../../src/logger.ts';
import { replay } from '../../src/replay/index.ts';
import { dailyRevenueByRegion, dailyRevenueByRegionStream } from '../../src/domains/shop/daily-revenue-by-region.ts';
import type { Transform } from '../../src/transforms/contract.ts';
import { StreamRunner } from '../../streaming/runtime/runner.ts';
import { freshDatabase } from '../support/databases.ts';
import { brokers, uniqueTopic } from '../support/kafka.ts';
import { loadShopScenario, shop, shopCutoff } from '../support/shop.ts';

/** The same transformation, its streaming half truncating each order's EUR revenue to whole euros. */
const truncating: Transform = {
  ...dailyRevenueByRegion,
  stream: {
    ...dailyRevenueByRegionStream,
    flatMap: (order, ctx) =>
      dailyRevenueByRegionStream.flatMap(order, ctx).map((contribution) => ({ ...contribution, values: { ...contribution.values, revenue_eur: `${Math.trunc(Number(contribution.values.revenue_eur))}.00` } })),
  },
};

async function dualRun(scenarioName: string, transform: Transform): Promise<ComparisonResult> {
  const scenario = await loadShopScenario(scenarioName);
  const database = await freshDatabase('pglite');
  const topicPrefix = uniqueTopic('explain-bug');
  const kafka = { brokers: brokers(), topicPrefix, partitions: 3 };
  try {
    let after: Date | undefined;
    for (const [i, date] of scenario.businessDates.entries()) {
      const until = shopCutoff(date, scenario.cutoffTime);
      await replay({ domain: shop, createSchema: true, events: scenario.events, db: database.db, kafka, until, ...(after ? { after } : {}), reset: i === 0, logger: silentLogger });
      const outcomes = await runBatch({ db: database.db, engine: 'pglite', transforms: [transform], businessDate: date, cutoff: until, logger: silentLogger });
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['succeeded']);
      after = until;
    }
    await replay({ domain: shop, events: scenario.events, db: database.db, kafka, after: after!, logger: silentLogger });
    const runner = new StreamRunner({ domain: shop, brokers: brokers(), group: `${topicPrefix}-g`, topicPrefix, transforms: [transform], fromBeginning: true, untilIdleMs: 2000, logger: silentLogger });
    await runner.start();
    await runner.done;
    const watermark = shopCutoff(scenario.businessDates.at(-1)!, scenario.cutoffTime);
    return await compareTransform({ transform, db: database.db, brokers: brokers(), topicPrefix, watermark, events: { brokers: brokers(), topicPrefix }, cutoffTime: scenario.cutoffTime });
  } finally {
    await database.drop();
  }
}

describe('a bug sharing its key with a semantic difference', () => {
  it('the correct stream: the late arrival explains the row, by its size', async () => {
    const result = await dualRun('late-arrivals', dailyRevenueByRegion);
    expect(result.explained).toEqual({ late_arrival: 1 });
    expect(result.differences[0]).toMatchObject({ key: { business_date: '2024-06-10', region: 'north' }, explanation: 'late_arrival', events: ['ord-L4'], checked: ['order_count', 'revenue_eur'] });
  });

  it('a stream that also truncates revenue: the same row is unexplained, and says what the events predicted', async () => {
    const result = await dualRun('late-arrivals', truncating);
    expect(result.explained).toEqual({ unexplained: 1 });
    const [row] = result.differences;
    expect(row).toMatchObject({ key: { business_date: '2024-06-10', region: 'north' }, explanation: 'unexplained', columns: ['order_count', 'revenue_eur'] });
    expect(row?.reason).toContain('they predict late_arrival 1 orders row (ord-L4) → order_count +1, revenue_eur +17.00');
    expect(row?.reason).toContain('left − right is order_count +1, revenue_eur +17.50');
  });
});
