// The real alarm clock (node-cron) on the DST nights, under fake timers: which instants it ticks at.
// Together with the scheduler tests (a tick after the cut-off runs the date once), this shows the
// nightly run happens on the night itself, once, also when 02:00 does not exist.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cronTicks } from '../../batch/scheduler.ts';

async function ticksBetween(start: string, hours: number, safetyNet?: string): Promise<string[]> {
  vi.useFakeTimers({ now: new Date(start) });
  const ticks: string[] = [];
  const source = safetyNet === undefined ? cronTicks('0 2 * * *', 'Europe/Stockholm') : cronTicks('0 2 * * *', 'Europe/Stockholm', safetyNet);
  source.start(() => ticks.push(new Date().toISOString()));
  for (let minute = 0; minute < hours * 60; minute += 1) await vi.advanceTimersByTimeAsync(60_000);
  source.stop();
  return ticks;
}

describe('cronTicks on DST nights (fake timers)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('spring: "0 2 * * *" alone never fires when 02:00 does not exist; the hourly safety net ticks at 03:00 CEST', async () => {
    expect(await ticksBetween('2024-03-30T22:30:00Z', 4, '')).toEqual([]);
    const ticks = await ticksBetween('2024-03-30T22:30:00Z', 4);
    // The 30th's cut-off is 02:00 local moved forward by the gap = 03:00 CEST = 01:00Z.
    expect(ticks.some((tick) => tick >= '2024-03-31T01:00:00.000Z' && tick < '2024-03-31T01:01:00.000Z')).toBe(true);
  });

  it('autumn: the cron fires at a 02:00 of the 25-hour night, after the cut-off (00:00Z)', async () => {
    const ticks = await ticksBetween('2024-10-26T22:30:00Z', 4, '');
    expect(ticks).toHaveLength(1);
    expect(['2024-10-27T00:00:00.000Z', '2024-10-27T01:00:00.000Z']).toContain(ticks[0]);
  });

  it('says when the user\'s expression rings next, not the hourly safety net', () => {
    vi.useFakeTimers({ now: new Date('2024-06-10T12:34:00Z') });
    const source = cronTicks('0 2 * * *', 'Europe/Stockholm');
    source.start(() => undefined);
    try {
      // 02:00 CEST on the 11th.
      expect(source.nextRing?.()?.toISOString()).toBe('2024-06-11T00:00:00.000Z');
    } finally {
      source.stop();
    }
  });
});
