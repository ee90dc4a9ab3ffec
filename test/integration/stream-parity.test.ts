// Parity with the batch job on the shared scenarios (real PostgreSQL and Kafka): every night is
// replayed to its cut-off into the legacy database and Kafka and the batch runs; the streaming job
// reads the same events. On baseline both outputs must be equal for all five transformations; on
// the other scenarios the keys that differ must be exactly the scenario's expected differences.
import '../../src/kafkajs-fixes.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { readBatchOutput, type OutputRow } from '../../batch/output.ts';
import { runBatch } from '../../batch/runner.ts';
import { silentLogger } from '../../src/logger.ts';
import { replay } from '../../src/replay/index.ts';
import { StreamRunner } from '../../streaming/runtime/runner.ts';
import { freshDatabase, type TestDatabase } from '../support/databases.ts';
import { brokers, uniqueTopic } from '../support/kafka.ts';
import { loadShopScenario, shop, shopCutoff, shopTransforms as transforms } from '../support/shop.ts';
import { createInputTopics, finalValues } from '../support/stream.ts';

const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const database of databases) await database.drop();
});

/** Both sides of one scenario: batch rows and stream rows per transformation, keyed by the output key. */
async function bothSides(name: string) {
  const scenario = await loadShopScenario(name);
  const database = await freshDatabase('postgres');
  databases.push(database);
  const prefix = uniqueTopic(`parity-${name}`);
  await createInputTopics(prefix, 3);
  let after: Date | undefined;
  for (const businessDate of scenario.businessDates) {
    const cutoff = shopCutoff(businessDate, scenario.cutoffTime);
    await replay({ domain: shop, events: scenario.events, db: database.db, kafka: { brokers: brokers(), topicPrefix: prefix }, until: cutoff, ...(after ? { after } : { createSchema: true }), logger: silentLogger });
    after = cutoff;
    const outcomes = await runBatch({ db: database.db, engine: 'postgres', transforms, businessDate, cutoffTime: scenario.cutoffTime, logger: silentLogger });
    expect(outcomes.map((outcome) => outcome.status)).toEqual(transforms.map(() => 'succeeded'));
  }
  const runner = new StreamRunner({ domain: shop, brokers: brokers(), group: `${prefix}-g`, topicPrefix: prefix, transforms, fromBeginning: true, untilIdleMs: 2000, logger: silentLogger });
  await runner.start();
  await runner.done;
  const sides: Record<string, { batch: Record<string, OutputRow>; stream: Record<string, OutputRow> }> = {};
  for (const transform of transforms) {
    const batchRows = await readBatchOutput(database.db, transform);
    const batch = Object.fromEntries(batchRows.map((row) => [JSON.stringify(transform.key.map((column) => row[column] ?? null)), row]));
    const stream = (await finalValues(`${prefix}.out.${transform.name}`)) as Record<string, OutputRow>;
    sides[transform.name] = { batch, stream };
  }
  return { scenario, sides };
}

/** Keys whose rows differ (missing on one side, or any value differs), as JSON key arrays. */
function differingKeys({ batch, stream }: { batch: Record<string, OutputRow>; stream: Record<string, OutputRow> }): string[] {
  const keys = new Set([...Object.keys(batch), ...Object.keys(stream)]);
  return [...keys].filter((key) => JSON.stringify(batch[key] ?? null) !== JSON.stringify(stream[key] ?? null)).sort();
}

describe('stream vs batch parity', { timeout: 300_000 }, () => {
  it('baseline: equal for all five transformations', async () => {
    const { sides } = await bothSides('baseline');
    for (const transform of transforms) {
      const { batch, stream } = sides[transform.name]!;
      expect(Object.keys(batch).length, `${transform.name} has rows`).toBeGreaterThan(0);
      expect(stream, transform.name).toEqual(batch);
    }
  });

  it.each(['late-arrivals', 'duplicates', 'customer-moves', 'cancellations-and-deletes', 'dst-boundary'])('%s: differences are exactly the expected ones', async (name) => {
    const { scenario, sides } = await bothSides(name);
    for (const transform of transforms) {
      const expected = (scenario.expectedDifferences[transform.name] ?? []).map((difference) => JSON.stringify(transform.key.map((column) => difference.key[column] ?? null))).sort();
      expect(differingKeys(sides[transform.name]!), `${name} ${transform.name}`).toEqual([...new Set(expected)]);
    }
  });
});
