// One test per rule of dualrun.config.ts: the key it names, the message, the fix.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CONFIG_FILE_NAMES, describeConfig, findConfigFile, loadConfigFile, validateConfig } from '../../src/config-file.ts';
import { ConfigError, ExitCode } from '../../src/errors.ts';
import * as api from '../../src/index.ts';

const userTransform = {
  name: 'my_orders',
  columns: [{ name: 'order_id', type: 'string' }, { name: 'business_date', type: 'date' }],
  key: ['order_id'],
  dateColumn: 'business_date',
  batch: () => undefined,
};

function rejection(input: unknown, known: string[] = ['orders_enriched']): ConfigError {
  try {
    validateConfig(input, known);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

describe('dualrun.config.ts rules', () => {
  afterEach(() => {
    delete process.env.TEST_KAFKA_PASSWORD;
  });

  it('accepts a full config and fills the defaults', () => {
    process.env.TEST_KAFKA_PASSWORD = 's3cret';
    const config = validateConfig(
      {
        database: { url: 'postgres://etl:pw@db:5432/shop' },
        kafka: { brokers: ['k1:9092', 'k2:9092'], ssl: true, sasl: { mechanism: 'scram-sha-512', username: 'etl', passwordEnv: 'TEST_KAFKA_PASSWORD' } },
        transforms: [userTransform],
        migration: { orders_enriched: { stage: 'shadow', allowedDifferences: [{ category: 'join_as_of_event_time', maxRatio: 0.05, reason: 'batch joins current region by design' }] }, my_orders: { stage: 'legacy' } },
      },
      ['orders_enriched'],
    );
    expect(config.kafka?.brokers).toEqual(['k1:9092', 'k2:9092']);
    // No prefix given: the commands use the domain's name (resolved with the project, src/cli/project.ts).
    expect(config.kafka?.topicPrefix).toBeUndefined();
    expect(config.migration.orders_enriched).toMatchObject({ thresholds: { maxMismatchRatio: 0, maxUnexplained: 0 }, promoteAfter: 3 });
    expect(config.report.out).toBe('dualrun-report');
  });

  it('an unknown top-level key is named', () => {
    const error = rejection({ kafak: {} });
    expect(error.exitCode).toBe(ExitCode.config);
    expect(error.message).toMatch(/kafak/);
  });

  it('database.url must name a supported engine', () => {
    expect(rejection({ database: { url: 'oracle://x' } }).key).toBe('database.url');
  });

  it('kafka.brokers must be host:port entries', () => {
    const error = rejection({ kafka: { brokers: ['kafka'] } });
    expect(error.key).toBe('kafka.brokers');
    expect(error.hint).toContain('["host:9092"');
  });

  it('kafka.topicPrefix must use topic characters', () => {
    expect(rejection({ kafka: { brokers: 'a:1', topicPrefix: 'my shop' } }).describe()).toContain('config kafka.topicPrefix: must use only letters, digits');
  });

  it('kafka.partitions must be a whole number from 1', () => {
    expect(rejection({ kafka: { brokers: 'a:1', partitions: 0 } }).key).toBe('kafka.partitions');
    expect(rejection({ kafka: { brokers: 'a:1', partitions: 1.5 } }).message).toContain('whole number');
  });

  it('kafka.sasl.mechanism must be one kafkajs supports with a password', () => {
    expect(rejection({ kafka: { brokers: 'a:1', sasl: { mechanism: 'gssapi', username: 'u', passwordEnv: 'P' } } }).key).toBe('kafka.sasl.mechanism');
  });

  it('kafka.sasl.passwordEnv must name a variable, never hold the password', () => {
    const error = rejection({ kafka: { brokers: 'a:1', sasl: { mechanism: 'plain', username: 'u', passwordEnv: 'hunter2!' } } });
    expect(error.key).toBe('kafka.sasl.passwordEnv');
    expect(error.message).toContain('never the password itself');
  });

  it('the variable kafka.sasl.passwordEnv names must be set', () => {
    const error = rejection({ kafka: { brokers: 'a:1', sasl: { mechanism: 'plain', username: 'u', passwordEnv: 'TEST_KAFKA_PASSWORD' } } });
    expect(error.message).toContain('TEST_KAFKA_PASSWORD is not set');
    expect(error.hint).toBe('export TEST_KAFKA_PASSWORD=… before running dualrun');
  });

  it('a manifest stage must be legacy, shadow, cutover or retired', () => {
    const error = rejection({ migration: { orders_enriched: { stage: 'live' } } });
    expect(error.key).toBe('migration.orders_enriched.stage');
    expect(error.message).toContain('must be one of legacy, shadow, cutover, retired');
  });

  it('unexplained differences cannot be allowed', () => {
    const error = rejection({ migration: { orders_enriched: { stage: 'shadow', allowedDifferences: [{ category: 'unexplained', maxRatio: 0.1, reason: 'x' }] } } });
    expect(error.key).toBe('migration.orders_enriched.allowedDifferences.0.category');
    expect(error.message).toContain('what the gate exists to catch');
  });

  it('an allowed difference names a known category', () => {
    expect(rejection({ migration: { orders_enriched: { stage: 'shadow', allowedDifferences: [{ category: 'gremlins', maxRatio: 0.1, reason: 'x' }] } } }).message).toContain('must be one of join_as_of_event_time');
  });

  it('an allowed difference has a maxRatio from 0 to 1', () => {
    expect(rejection({ migration: { orders_enriched: { stage: 'shadow', allowedDifferences: [{ category: 'late_arrival', maxRatio: 5, reason: 'x' }] } } }).key).toBe('migration.orders_enriched.allowedDifferences.0.maxRatio');
  });

  it('an allowed difference names each category once', () => {
    const twice = [{ category: 'late_arrival', maxRatio: 0.1, reason: 'a' }, { category: 'late_arrival', maxRatio: 0.2, reason: 'b' }];
    const error = rejection({ migration: { orders_enriched: { stage: 'shadow', allowedDifferences: twice } } });
    expect(error.key).toBe('migration.orders_enriched.allowedDifferences.1.category');
    expect(error.message).toContain('late_arrival is already allowed above');
  });

  it('an allowed difference says why', () => {
    expect(rejection({ migration: { orders_enriched: { stage: 'shadow', allowedDifferences: [{ category: 'late_arrival', maxRatio: 0.1, reason: ' ' }] } } }).message).toContain('must say why');
  });

  it('thresholds are a ratio and a whole count', () => {
    expect(rejection({ migration: { orders_enriched: { stage: 'shadow', thresholds: { maxMismatchRatio: -0.1 } } } }).key).toBe('migration.orders_enriched.thresholds.maxMismatchRatio');
    expect(rejection({ migration: { orders_enriched: { stage: 'shadow', thresholds: { maxUnexplained: 0.5 } } } }).key).toBe('migration.orders_enriched.thresholds.maxUnexplained');
  });

  it('promoteAfter is at least one run', () => {
    expect(rejection({ migration: { orders_enriched: { stage: 'shadow', promoteAfter: 0 } } }).key).toBe('migration.orders_enriched.promoteAfter');
  });

  it('the manifest names only known transformations', () => {
    const error = rejection({ migration: { order_enriched: { stage: 'shadow' } } });
    expect(error.key).toBe('migration.order_enriched');
    expect(error.hint).toContain('use one of orders_enriched');
  });

  it('a user transformation has a snake_case name', () => {
    expect(rejection({ transforms: [{ ...userTransform, name: 'MyOrders' }] }).key).toBe('transforms.0.name');
  });

  it("a user transformation's key columns are among its columns", () => {
    const error = rejection({ transforms: [{ ...userTransform, key: ['id'] }] });
    expect(error.key).toBe('transforms.0.key.0');
    expect(error.message).toContain('"id" is not one of its columns (order_id, business_date)');
  });

  it("a user transformation's dateColumn is among its columns", () => {
    expect(rejection({ transforms: [{ ...userTransform, dateColumn: 'day' }] }).key).toBe('transforms.0.dateColumn');
  });

  it('a user transformation has a batch function', () => {
    expect(rejection({ transforms: [{ ...userTransform, batch: 'select 1' }] }).message).toContain('must be a function');
  });

  it('prints the config with secrets hidden', () => {
    const config = validateConfig({ database: { url: 'postgres://etl:topsecret@db:5432/shop' } });
    expect(JSON.stringify(describeConfig(config))).not.toContain('topsecret');
  });
});

const tempDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dualrun-config-'));
  tempDirs.push(dir);
  return dir;
}
// At the file's level: every describe below makes temporary projects.
afterAll(async () => {
  for (const dir of tempDirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('loading dualrun.config.ts', () => {

  it('loads a TypeScript config file through defineConfig', async () => {
    const dir = await tempDir();
    const file = join(dir, 'dualrun.config.ts');
    const defineConfig = new URL('../../src/config-file.ts', import.meta.url).pathname;
    await writeFile(file, `import { defineConfig } from '${defineConfig}';\nexport default defineConfig({ kafka: { brokers: ['k:9092'], topicPrefix: 'acme' } });\n`);
    const config = await loadConfigFile(file);
    expect(config.kafka?.topicPrefix).toBe('acme');
  });

  it('names a missing --config file', async () => {
    await expect(loadConfigFile('/nonexistent/dualrun.config.ts')).rejects.toMatchObject({ key: '--config' });
  });

  it('says a file without a default export must export defineConfig', async () => {
    const dir = await tempDir();
    const file = join(dir, 'dualrun.config.ts');
    await writeFile(file, 'export const config = {};\n');
    await expect(loadConfigFile(file)).rejects.toMatchObject({ message: 'has no default export' });
  });

  it('reports a file that does not load, at its line and column, with the fix', async () => {
    const dir = await tempDir();
    const file = join(dir, 'dualrun.config.ts');
    await writeFile(file, 'export default {{{;\n');
    const error = await loadConfigFile(file).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(ExitCode.config);
    expect((error as ConfigError).describe()).toMatch(new RegExp(`^config ${file}: cannot load: .* at ${file}:1:\\d+\n  fix: fix the error in the file`));
  });

  it('names the file that imports a missing one', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'dualrun.config.ts'), "import { transform } from './transform.ts';\nexport default { transforms: [transform] };\n");
    await writeFile(join(dir, 'transform.ts'), "export { transform } from './missing.ts';\n");
    await expect(loadConfigFile(join(dir, 'dualrun.config.ts'))).rejects.toMatchObject({ message: `cannot load: Cannot find module './missing.ts' (imported by ${join(dir, 'transform.ts')})` });
  });

  it('a CommonJS config without module.exports has no config to give', async () => {
    const dir = await tempDir();
    const file = join(dir, 'dualrun.config.cjs');
    await writeFile(file, 'const unused = 1;\n');
    // module.exports stays {}: a config of defaults, as an empty object would be.
    expect((await loadConfigFile(file)).migration).toEqual({});
  });
});

/**
 * The six kinds of config file, in a CommonJS project and in an ES-module one, each importing the
 * user's transformation from a second TypeScript file; both import `dualrun`, and must get the copy
 * that loads them (here the sources), not another one.
 */
describe('config files of every kind, in either kind of project', () => {
  const transformFile = `import { defineConfig, defineTransform } from 'dualrun';
const name: string = 'my_orders';
export const myOrders = defineTransform({
  name, description: 'orders', key: ['order_id'], dateColumn: 'business_date',
  columns: [{ name: 'order_id', type: 'string' }, { name: 'business_date', type: 'date' }],
  time: { eventTimeField: 'placedAt', window: 'none', graceMs: 0, timeZone: 'UTC' },
  batch: ({ knex }) => knex.select('order_id').from('orders'),
  stream: undefined as never,
  sameDefineConfig: defineConfig,
});
`;
  const esm = "import { defineConfig } from 'dualrun';\nimport { myOrders } from './transform.ts';\nexport default defineConfig({ transforms: [myOrders], migration: { my_orders: { stage: 'shadow' } } });\n";
  const cjs = "const { defineConfig } = require('dualrun');\nconst { myOrders } = require('./transform.ts');\nmodule.exports = defineConfig({ transforms: [myOrders], migration: { my_orders: { stage: 'shadow' } } });\n";
  const typed = esm.replace('export default', "const stage: 'shadow' = 'shadow';\nvoid stage;\nexport default");
  const sources: Record<string, { cjs: string; esm: string }> = {
    ts: { cjs: typed, esm: typed },
    mts: { cjs: typed, esm: typed },
    cts: { cjs: typed, esm: typed },
    js: { cjs, esm },
    mjs: { cjs: esm, esm },
    cjs: { cjs, esm: cjs },
  };

  for (const kind of ['cjs', 'esm'] as const) {
    for (const [extension, source] of Object.entries(sources)) {
      it(`dualrun.config.${extension} in a ${kind === 'esm' ? '"type": "module"' : 'CommonJS'} project`, async () => {
        const dir = await tempDir();
        await writeFile(join(dir, 'package.json'), kind === 'esm' ? '{ "type": "module" }\n' : '{}\n');
        await writeFile(join(dir, 'transform.ts'), transformFile);
        const file = join(dir, `dualrun.config.${extension}`);
        await writeFile(file, source[kind]);
        const config = await loadConfigFile(file, ['orders_enriched']);
        expect(config.transforms.map((transform) => transform.name)).toEqual(['my_orders']);
        expect(config.migration.my_orders?.stage).toBe('shadow');
        expect(config.transforms[0]?.sameDefineConfig).toBe(api.defineConfig);
      });
    }
  }

  it('each name is found in the working directory, and two of them are refused', async () => {
    for (const name of CONFIG_FILE_NAMES) {
      const dir = await tempDir();
      await writeFile(join(dir, name), 'export default {};\n');
      expect(findConfigFile(dir)).toBe(join(dir, name));
    }
    const dir = await tempDir();
    await mkdir(join(dir, 'sub'));
    expect(findConfigFile(join(dir, 'sub'))).toBeUndefined();
    await writeFile(join(dir, 'dualrun.config.ts'), 'export default {};\n');
    await writeFile(join(dir, 'dualrun.config.mjs'), 'export default {};\n');
    const error = (() => {
      try {
        findConfigFile(dir);
      } catch (caught) {
        return caught as ConfigError;
      }
      throw new Error('expected two config files to be refused');
    })();
    expect(error.describe()).toBe(`config ${join(dir, 'dualrun.config.ts')}: dualrun.config.ts and dualrun.config.mjs are both in ${dir}\n  fix: keep one config file, or choose one with --config FILE`);
  });
});
