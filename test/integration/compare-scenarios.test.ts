// Every scenario of both domains (the shop's fixtures, the metering example's) end to end, on every engine:
// replayed night by night into the legacy database and Kafka, the batch run at each cut-off, the streaming
// job run to idle, then each transformation's batch table compared with its output topic — the differences
// found must be exactly the scenario's expected differences, with the category and the proving events (read
// back from the input topics).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBatch } from '../../batch/runner.ts';
import { openDuck } from '../../compare/duck.ts';
import { compareTransform } from '../../compare/index.ts';
import { silentLogger } from '../../src/logger.ts';
import { replay } from '../../src/replay/index.ts';
import { StreamRunner } from '../../streaming/runtime/runner.ts';
import { engines, freshDatabase } from '../support/databases.ts';
import { brokers, uniqueTopic } from '../support/kafka.ts';
import { loadMeteringScenario, metering, meteringCutoff, meteringScenarios, meteringTransforms } from '../support/metering.ts';
import { fixtures, loadShopScenario, shop, shopCutoff, shopTransforms } from '../support/shop.ts';

const folders = (dir: string) => readdirSync(dir).filter((name) => statSync(join(dir, name)).isDirectory());
const domains = [
  { domain: shop, transforms: shopTransforms, scenarios: folders(fixtures), load: loadShopScenario, cutoff: shopCutoff },
  { domain: metering, transforms: meteringTransforms, scenarios: folders(meteringScenarios), load: loadMeteringScenario, cutoff: meteringCutoff },
];

describe.each(engines)('comparator on every scenario, end to end, on %s', (engine) => {
  for (const { domain, transforms, scenarios, load, cutoff } of domains) {
    for (const name of scenarios) {
      it(`${domain.name} ${name}: exactly the expected differences, categories and proving events`, async () => {
        const scenario = await load(name);
        const database = await freshDatabase(engine);
        const db = database.db;
        const topicPrefix = uniqueTopic('e2e');
        const kafka = { brokers: brokers(), topicPrefix, partitions: 3 };
        const duck = await openDuck();
        try {
          let after: Date | undefined;
          for (const [i, date] of scenario.businessDates.entries()) {
            const until = cutoff(date, scenario.cutoffTime);
            await replay({ domain, createSchema: true, events: scenario.events, db, kafka, until, ...(after ? { after } : {}), reset: i === 0, logger: silentLogger });
            const outcomes = await runBatch({ db, engine, transforms, businessDate: date, cutoff: until, logger: silentLogger });
            expect(outcomes.map((outcome) => outcome.status)).toEqual(transforms.map(() => 'succeeded'));
            after = until;
          }
          await replay({ domain, events: scenario.events, db, kafka, after: after!, logger: silentLogger });
          const runner = new StreamRunner({ domain, brokers: brokers(), group: `${topicPrefix}-g`, topicPrefix, transforms, fromBeginning: true, untilIdleMs: 2000, logger: silentLogger });
          await runner.start();
          await runner.done;
          const watermark = cutoff(scenario.businessDates.at(-1)!, scenario.cutoffTime);
          for (const transform of transforms) {
            const result = await compareTransform({ transform, db, brokers: brokers(), topicPrefix, watermark, events: { brokers: brokers(), topicPrefix }, cutoffTime: scenario.cutoffTime, duck });
            const found = result.differences.map((d) => ({ key: d.key, category: d.explanation, columns: d.columns, events: [...d.events].sort() }));
            const wanted = (scenario.expectedDifferences[transform.name] ?? []).map((d) => ({ key: Object.fromEntries(Object.entries(d.key).map(([k, v]) => [k, String(v)])), category: d.category, columns: d.columns ?? [], events: [...d.events].sort() }));
            const byKey = (a: { key: object }, b: { key: object }) => JSON.stringify(a.key).localeCompare(JSON.stringify(b.key));
            expect(found.sort(byKey), `${name} / ${transform.name}`).toEqual(wanted.sort(byKey));
            expect(result.notYetComparable.left + result.notYetComparable.right).toBe(0);
          }
        } finally {
          duck.close();
          await database.drop();
        }
      });
    }
  }
});
