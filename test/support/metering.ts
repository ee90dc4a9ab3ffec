/**
 * The metering example as the tests use it — a second domain, written only against the public API
 * (examples/metering): its project, its scenarios folder and its nightly cut-off.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateMetering } from '../../examples/metering/generate.ts';
import { metering, meteringTransforms } from '../../examples/metering/index.ts';
import { loadScenario } from '../../src/scenario/load.ts';
import { cutoffFor } from '../../src/time.ts';
import { deliveryMessage, type TestMessage } from './events.ts';

export { metering, meteringTransforms };
export const meteringProject = { domain: metering, transforms: meteringTransforms };
export const meteringScenarios = join(import.meta.dirname, '../../examples/metering/scenarios');

/** When the nightly run for `date` looks at the data, in the metering domain's time zone. */
export const meteringCutoff = (date: string, time = '02:00'): Date => cutoffFor(date, time, metering.timeZone);

/** A metering scenario by name (a folder under examples/metering/scenarios) or path. */
export const loadMeteringScenario = (nameOrDir: string) => loadScenario(nameOrDir.includes('/') ? nameOrDir : join(meteringScenarios, nameOrDir), meteringProject);

/**
 * A busy metering scenario (the example's own generator, seeded), in arrival order as the test messages
 * replay would publish: readings late, redelivered and corrected, meters moving tariff and decommissioned.
 */
export async function generateMeteringMessages(options: { readings: number; meters: number; days?: number; seed?: string }): Promise<TestMessage[]> {
  const out = await mkdtemp(join(tmpdir(), 'dualrun-metering-gen-'));
  try {
    await generateMetering({ out, seed: options.seed ?? '7', readings: options.readings, meters: options.meters, days: options.days ?? 3, startDate: '2024-04-05', lateRate: 0.02, duplicateRate: 0.02, correctionRate: 0.01 });
    const scenario = await loadMeteringScenario(out);
    return scenario.events.map((delivery) => deliveryMessage(metering, delivery));
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
