// The project a config gives (src/cli/project.ts) and the checks of a transformation against its domain
// (src/transforms/validate.ts): one test per rule, each a ConfigError naming the transformation, the key
// and the fix — here on the shop and on a domain made up for the test.
import { describe, expect, it } from 'vitest';
import { resolveProject } from '../../src/cli/project.ts';
import { validateConfig } from '../../src/config-file.ts';
import { ConfigError } from '../../src/errors.ts';
import { defineDomain, upsert } from '../../src/model/domain.ts';
import { field } from '../../src/model/fields.ts';
import { aggregateBy, count, upsertPerKey, type AggregatePipeline } from '../../src/pipeline/dsl.ts';
import type { Transform } from '../../src/transforms/contract.ts';
import { validateTransform } from '../../src/transforms/validate.ts';
import { dailyRevenueByRegion, shop, shopTransforms } from '../support/shop.ts';

const meters = defineDomain({
  name: 'meters',
  timeZone: 'Australia/Sydney',
  entities: {
    sites: { key: ['siteId'], fields: { siteId: field.id(), region: field.text() }, events: { SiteSet: upsert() } },
    readings: { key: ['readingId'], fields: { readingId: field.id(), siteId: field.id(), kwh: field.decimal(3), readAt: field.instant() }, eventTime: 'readAt', events: { ReadingTaken: upsert() } },
  },
});

const base = {
  name: 'kwh_per_region',
  description: 'kWh per region',
  key: ['region'],
  columns: [
    { name: 'region', type: 'string' },
    { name: 'readings', type: 'integer' },
  ],
  time: { eventTimeField: 'readAt', window: 'none', graceMs: 0, timeZone: 'Australia/Sydney' },
  batch: () => undefined as never,
} satisfies Omit<Transform, 'stream'>;

const good = aggregateBy(meters.from('readings', { joins: { sites: 'latest' } }), {
  flatMap: (reading, ctx) => [{ key: { region: ctx.tables.get('sites', reading.siteId)?.region ?? 'none' }, values: {} }],
  aggregations: { readings: count() },
});

function rejection(transform: Transform, domain = meters): ConfigError {
  try {
    validateTransform(transform, domain);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected the transformation to be rejected');
}

describe('a transformation checked against its domain', () => {
  it('accepts the shop five and a made-up domain\'s', () => {
    for (const transform of shopTransforms) expect(() => validateTransform(transform, shop)).not.toThrow();
    expect(() => validateTransform({ ...base, stream: good }, meters)).not.toThrow();
  });

  const cases: [string, Transform, string, RegExp][] = [
    ['a pipeline of another domain', { ...dailyRevenueByRegion }, 'transforms.daily_revenue_by_region.stream', /reads the shop domain, but the config's domain is meters/],
    [
      'a lookup of a table not in joins',
      { ...base, stream: aggregateBy(meters.from('readings'), { flatMap: (reading, ctx) => [{ key: { region: String((ctx.tables as never as { get(e: string, k: string): unknown }).get('sites', reading.siteId)) }, values: {} }], aggregations: { readings: count() } }) },
      'transforms.kwh_per_region.stream.joins',
      /looks up sites without declaring it in joins/,
    ],
    [
      'a field the domain does not declare',
      { ...base, stream: aggregateBy(meters.from('readings'), { flatMap: (reading) => [{ key: { region: String((reading as unknown as { meterId: string }).meterId) }, values: {} }], aggregations: { readings: count() } }) },
      'transforms.kwh_per_region.stream',
      /reads readings\.meterId, which the meters domain does not declare/,
    ],
    [
      'a field of a joined row the domain does not declare',
      { ...base, stream: aggregateBy(meters.from('readings', { joins: { sites: 'latest' } }), { flatMap: (reading, ctx) => [{ key: { region: String((ctx.tables.get('sites', reading.siteId) as unknown as { state: string }).state) }, values: {} }], aggregations: { readings: count() } }) },
      'transforms.kwh_per_region.stream',
      /reads sites\.state, which the meters domain does not declare/,
    ],
    [
      'a contribution keyed by other columns than the contract',
      { ...base, stream: aggregateBy(meters.from('readings'), { flatMap: (reading) => [{ key: { site: reading.siteId }, values: {} }], aggregations: { readings: count() } }) },
      'transforms.kwh_per_region.stream',
      /gives a key of \(site\), the contract's key is \(region\)/,
    ],
    [
      'an aggregation of a field the contributions do not carry',
      { ...base, columns: [...base.columns, { name: 'kwh', type: 'decimal', scale: 3 }], stream: aggregateBy(meters.from('readings'), { flatMap: () => [{ key: { region: 'r' }, values: { kw: '1' } }], aggregations: { readings: count(), kwh: { op: 'sum', field: 'kwh', scale: 3 } } }) },
      'transforms.kwh_per_region.stream.aggregations.kwh',
      /aggregates the field "kwh", which its flatMap's values do not carry/,
    ],
    ['a column neither key nor aggregated', { ...base, columns: [...base.columns, { name: 'kwh', type: 'decimal' }], stream: good }, 'transforms.kwh_per_region.stream.aggregations', /column "kwh" is neither a key column nor aggregated/],
    ['an aggregation into a column the contract lacks', { ...base, stream: { ...good, aggregations: { readings: count(), extra: count() } } as unknown as AggregatePipeline }, 'transforms.kwh_per_region.stream.aggregations.extra', /"extra" is not one of its columns/],
    ['a window shorter than a minute', { ...base, stream: { ...good, window: { size: 1000, graceMs: 0, eventTime: (r: { readAt: string }) => r.readAt } } as AggregatePipeline }, 'transforms.kwh_per_region.stream.window.size', /at least a minute/],
    ['a grace longer than a window', { ...base, stream: { ...good, window: { size: 3_600_000, graceMs: 7_200_000, eventTime: (r: { readAt: string }) => r.readAt } } as AggregatePipeline }, 'transforms.kwh_per_region.stream.window.graceMs', /no longer than one window|from 0 to the length of a window/],
    [
      'a per-key row with a column the contract lacks',
      { ...base, key: ['region'], columns: [{ name: 'region', type: 'string' }], stream: upsertPerKey(meters.from('readings'), (reading) => ({ region: reading.siteId, kwh: reading.kwh })) },
      'transforms.kwh_per_region.stream',
      /its map returns the column "kwh", which the contract does not declare/,
    ],
  ];
  it.each(cases)('%s', (_what, transform, key, message) => {
    const error = rejection(transform);
    expect(error.key).toBe(key);
    expect(error.message).toMatch(message);
    expect(error.hint).toBeTruthy();
  });
});

describe('the project of a config', () => {
  it('is the shop and its five by default, the config\'s own added', async () => {
    const own = { ...shopTransforms[1]!, name: 'revenue_again' };
    const project = await resolveProject(validateConfig({ transforms: [own] }));
    expect(project.domain.name).toBe('shop');
    expect(project.transforms.map((t) => t.name)).toEqual([...shopTransforms.map((t) => t.name), 'revenue_again']);
  });

  it('is only the config\'s own with a domain of its own', async () => {
    const project = await resolveProject(validateConfig({ domain: meters, transforms: [{ ...base, stream: good }] }));
    expect([project.domain.name, project.transforms.map((t) => t.name)]).toEqual(['meters', ['kwh_per_region']]);
  });

  it('refuses a name the shop already has, a name given twice, and a manifest entry naming nothing', async () => {
    await expect(resolveProject(validateConfig({ transforms: [shopTransforms[0]!] }))).rejects.toMatchObject({ key: 'transforms.orders_enriched', message: expect.stringMatching(/already one of the shop's transformations/) });
    const twice = { ...base, stream: good };
    await expect(resolveProject(validateConfig({ domain: meters, transforms: [twice, twice] }))).rejects.toMatchObject({ key: 'transforms.kwh_per_region', message: expect.stringMatching(/two transformations are called/) });
    await expect((async () => resolveProject(validateConfig({ domain: meters, transforms: [twice], migration: { orders_enriched: { stage: 'shadow' } } })))()).rejects.toMatchObject({ key: 'migration.orders_enriched' });
  });

  it("with the default domain, a manifest may name the shop's transformations; one naming nothing is refused", async () => {
    // As the CLI loads it: validated without the shop's names (the shop is loaded only once the project knows it needs it).
    const own = { ...shopTransforms[1]!, name: 'revenue_again' };
    const project = await resolveProject(validateConfig({ transforms: [own], migration: { orders_enriched: { stage: 'shadow' }, revenue_again: { stage: 'legacy' } } }));
    expect(project.transforms.map((t) => t.name)).toContain('orders_enriched');
    await expect(resolveProject(validateConfig({ transforms: [own], migration: { order_enriched: { stage: 'shadow' } } }))).rejects.toMatchObject({ key: 'migration.order_enriched', hint: expect.stringContaining('orders_enriched') });
  });

  it('refuses a domain that is not one', () => {
    expect(() => validateConfig({ domain: { name: 'x' } })).toThrow(/must be a domain made with defineDomain/);
  });
});
