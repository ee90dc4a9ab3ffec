/**
 * `dualrun.config.ts`: the user's domain, databases, Kafka cluster, own transformations and migration
 * manifest, written with `defineConfig` and validated once here. Every rule has a message naming the
 * key, what was expected and the fix. Secrets never live in the file: a SASL password is named by the
 * environment variable holding it, and `describeConfig` prints the config with every secret hidden.
 *
 * The file may be TypeScript or JavaScript, ES module or CommonJS (`dualrun.config.ts`, .mts, .cts,
 * .js, .mjs, .cjs), in a project of either kind, importing the user's transformations from other
 * TypeScript files: jiti compiles them as it loads them, so the project needs no build step and no
 * `"type"`. Its `import … from 'dualrun'` gets this very copy of dualrun, the one running the command
 * (whether installed, linked or run from the sources), never a second one.
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { brokersSchema, databaseUrlSchema } from './config.ts';
import { redactUrl } from './db.ts';
import { DIFFERENCE_CATEGORIES, type DifferenceCategory } from './differences.ts';
import { ConfigError, messageOf } from './errors.ts';
import type { DomainModel } from './model/domain.ts';

export const STAGES = ['legacy', 'shadow', 'cutover', 'retired'] as const;
export type Stage = (typeof STAGES)[number];

const explainedCategories = Object.keys(DIFFERENCE_CATEGORIES).filter((category) => category !== 'unexplained') as [DifferenceCategory, ...DifferenceCategory[]];

const allowedDifferenceSchema = z.object({
  category: z.string().refine((category) => category !== 'unexplained', 'unexplained differences cannot be allowed: they are what the gate exists to catch').pipe(z.enum(explainedCategories, { error: `must be one of ${explainedCategories.join(', ')}` })),
  maxRatio: z.number({ error: 'must be a number from 0 to 1 (the share of compared rows)' }).min(0, 'must be at least 0').max(1, 'must be at most 1 (a ratio of compared rows)'),
  reason: z.string({ error: 'must say why this difference is acceptable' }).trim().min(1, 'must say why this difference is acceptable'),
});

const manifestEntrySchema = z.object({
  stage: z.enum(STAGES, { error: `must be one of ${STAGES.join(', ')}` }),
  thresholds: z
    .object({
      maxMismatchRatio: z.number().min(0, 'must be at least 0').max(1, 'must be at most 1').default(0),
      maxUnexplained: z.number().int('must be a whole number').min(0, 'must be at least 0').default(0),
    })
    .strict()
    .default({ maxMismatchRatio: 0, maxUnexplained: 0 }),
  allowedDifferences: z
    .array(allowedDifferenceSchema)
    .default([])
    .superRefine((rules, ctx) => {
      rules.forEach((rule, index) => {
        if (rules.findIndex((other) => other.category === rule.category) !== index) {
          ctx.addIssue({ code: 'custom', path: [index, 'category'], message: `${rule.category} is already allowed above: give each category one rule` });
        }
      });
    }),
  /** Consecutive passing runs needed before `cutover` is allowed. */
  promoteAfter: z.number().int('must be a whole number').min(1, 'must be at least 1').default(3),
}).strict();

const kafkaSchema = z
  .object({
    /** Default: KAFKA_BROKERS, else the local broker (`dualrun kafka start`). */
    brokers: z.union([z.array(z.string()).transform((list) => list.join(',')), z.string()]).pipe(brokersSchema).optional(),
    /** Default: the domain's name. */
    topicPrefix: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must use only letters, digits, ".", "_" and "-" (Kafka topic characters)').optional(),
    partitions: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(3),
    ssl: z.boolean().default(false),
    sasl: z
      .object({
        mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512'], { error: 'must be plain, scram-sha-256 or scram-sha-512' }),
        username: z.string().min(1, 'must not be empty'),
        passwordEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must name an environment variable (like KAFKA_PASSWORD), never the password itself'),
      })
      .strict()
      .optional(),
  })
  .strict();

/** The shape a transformation must have to be run by both runners (checked loosely: the types do the rest). */
const transformSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be snake_case: a lower-case letter, then letters, digits or _'),
    columns: z.array(z.object({ name: z.string().min(1), type: z.enum(['string', 'integer', 'decimal', 'date', 'timestamp']) }).loose()).min(1, 'must list at least one column'),
    key: z.array(z.string()).min(1, 'must name at least one key column'),
    dateColumn: z.string().optional(),
    batch: z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', 'must be a function returning the legacy SQL (a knex query)'),
  })
  .loose()
  .superRefine((transform, ctx) => {
    const names = new Set(transform.columns.map((column) => column.name));
    for (const [index, key] of transform.key.entries()) {
      if (!names.has(key)) ctx.addIssue({ code: 'custom', path: ['key', index], message: `"${key}" is not one of its columns (${[...names].join(', ')})` });
    }
    if (transform.dateColumn !== undefined && !names.has(transform.dateColumn)) {
      ctx.addIssue({ code: 'custom', path: ['dateColumn'], message: `"${transform.dateColumn}" is not one of its columns` });
    }
  });

/** A domain made with defineDomain (checked there: here only that it is one). */
const domainSchema = z.custom<DomainModel>(
  (value) => value !== null && typeof value === 'object' && typeof (value as DomainModel).entity === 'function' && Array.isArray((value as DomainModel).entities),
  'must be a domain made with defineDomain({ name, timeZone, entities })',
);

export const configSchema = z
  .object({
    /** The team's domain (default: the example shop, with its five transformations). */
    domain: domainSchema.optional(),
    database: z.object({ url: databaseUrlSchema }).strict().optional(),
    kafka: kafkaSchema.optional(),
    /** The user's own transformations (with the default shop domain: added to the shop's five). */
    transforms: z.array(transformSchema).default([]),
    migration: z.record(z.string(), manifestEntrySchema).default({}),
    report: z.object({ out: z.string().min(1).default('dualrun-report') }).strict().default({ out: 'dualrun-report' }),
  })
  .strict();

export type DualrunConfigInput = z.input<typeof configSchema>;
export type DualrunConfig = z.output<typeof configSchema>;
export type ManifestEntry = z.output<typeof manifestEntrySchema>;

/** Typed identity for `dualrun.config.ts`: `export default defineConfig({ … })`. */
export function defineConfig(config: DualrunConfigInput): DualrunConfigInput {
  return config;
}

const fixes: [RegExp, string][] = [
  [/^kafka\.brokers/, 'list the bootstrap servers as ["host:9092", …]'],
  [/^kafka\.sasl\.passwordEnv/, 'write passwordEnv: "KAFKA_PASSWORD" and export KAFKA_PASSWORD=… in the environment'],
  [/^migration\.[^.]+\.allowedDifferences/, 'each allowed difference is { category, maxRatio, reason }'],
  [/^migration\.[^.]+\.stage/, 'stages go legacy → shadow → cutover → retired'],
  [/^migration\./, 'see the migration manifest section of the README'],
  [/^transforms\./, 'define it with defineTransform({ name, columns, key, time, batch, stream })'],
  [/^domain/, "import your domain (made with defineDomain) and write domain: myDomain"],
];

/**
 * Validates a config object; `knownTransforms` are the default domain's transformations, which the
 * manifest may also refer to when the config names no domain of its own. Without them (the CLI, which
 * loads the default domain only once it knows it is needed) the manifest's names of a config without a
 * domain are left to the project's resolution (src/cli/project.ts), which knows every transformation.
 */
export function validateConfig(input: unknown, knownTransforms?: readonly string[], source = 'dualrun.config.ts'): DualrunConfig {
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = issue.path.map(String).join('.') || '(root)';
    const fix = fixes.find(([pattern]) => pattern.test(key))?.[1];
    throw new ConfigError(key, `${issue.message} (in ${source})`, fix === undefined ? {} : { hint: fix });
  }
  const config = result.data;
  const names = new Set([...(config.domain ? [] : (knownTransforms ?? [])), ...config.transforms.map((transform) => transform.name)]);
  const checkNames = config.domain !== undefined || knownTransforms !== undefined;
  for (const name of checkNames ? Object.keys(config.migration) : []) {
    if (!names.has(name)) {
      throw new ConfigError(`migration.${name}`, `no transformation is called "${name}" (in ${source})`, { hint: `use one of ${[...names].join(', ')}, or add it under transforms` });
    }
  }
  const password = config.kafka?.sasl?.passwordEnv;
  if (password !== undefined && !process.env[password]) {
    throw new ConfigError('kafka.sasl.passwordEnv', `environment variable ${password} is not set (in ${source})`, { hint: `export ${password}=… before running dualrun` });
  }
  return config;
}

/** The names a config file may have, in the order they are looked for. */
export const CONFIG_FILE_NAMES = ['dualrun.config.ts', 'dualrun.config.mts', 'dualrun.config.cts', 'dualrun.config.js', 'dualrun.config.mjs', 'dualrun.config.cjs'] as const;

/** The config file in `dir`, if there is one; two of them are an error rather than a silent choice. */
export function findConfigFile(dir: string): string | undefined {
  const found = CONFIG_FILE_NAMES.map((name) => join(dir, name)).filter((file) => existsSync(file));
  if (found.length > 1) {
    throw new ConfigError(found[0]!, `${found.map((file) => basename(file)).join(' and ')} are both in ${dir}`, { hint: 'keep one config file, or choose one with --config FILE' });
  }
  return found[0];
}

/** Runs the config file and returns what it exports as its config (the default export; `module.exports` for CommonJS). */
async function importConfigModule(file: string): Promise<unknown> {
  const [{ createJiti }, api, shop] = await Promise.all([import('jiti'), import('./index.ts'), import('./domains/shop/index.ts')]);
  const jiti = createJiti(file, {
    // 'dualrun' and 'dualrun/shop' are this very copy: one set of classes and one shop domain.
    virtualModules: { dualrun: api, 'dualrun/shop': shop },
    // The module itself, not jiti's blend of its default export and its named ones.
    interopDefault: false,
    // Read afresh on every load (compiled sources stay cached on disk, keyed by their content).
    moduleCache: false,
  });
  const module = await jiti.import<Record<string, unknown> | null>(file);
  if (module === null || typeof module !== 'object') return module ?? undefined;
  // An ES module (compiled to CommonJS by jiti, marked __esModule) exports its config as default;
  // a CommonJS file assigns it to module.exports.
  return '__esModule' in module || 'default' in module ? module.default : module;
}

/** Loads and validates the config file (the given path, or the one in the working directory); no file means the defaults. */
export async function loadConfigFile(path: string | undefined, knownTransforms?: readonly string[]): Promise<DualrunConfig> {
  const file = path === undefined ? findConfigFile(process.cwd()) : resolve(path);
  if (file === undefined) return validateConfig({}, knownTransforms);
  if (!existsSync(file)) throw new ConfigError('--config', `${file} does not exist`, { hint: 'pass the path of your dualrun.config.ts, or leave --config out' });
  let exported: unknown;
  try {
    exported = await importConfigModule(file);
  } catch (error) {
    throw new ConfigError(file, `cannot load: ${loadFailure(error)}`, { cause: error, hint: 'fix the error in the file; it must `export default defineConfig({ … })`' });
  }
  if (exported === undefined) throw new ConfigError(file, 'has no default export', { hint: 'end it with `export default defineConfig({ … })` (or, in CommonJS, `module.exports = defineConfig({ … })`)' });
  return validateConfig(exported, knownTransforms, file);
}

/** The loader's message on one line, keeping the place it names: `file:line:column`, or the file that imported a missing one. */
function loadFailure(error: unknown): string {
  return messageOf(error)
    .replace(/\s*\nRequire stack:\n- ([^\n]+)[\s\S]*$/, ' (imported by $1)')
    .replace(/\s*\n\s*(\S+:\d+:\d+)\s*$/, ' at $1')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

/** The config as safe to print: database passwords and SASL secrets hidden. */
export function describeConfig(config: DualrunConfig): Record<string, unknown> {
  return {
    ...config,
    database: config.database ? { url: redactUrl(config.database.url) } : undefined,
    kafka: config.kafka ? { ...config.kafka, sasl: config.kafka.sasl ? { ...config.kafka.sasl, password: '***' } : undefined } : undefined,
    domain: config.domain?.name,
    transforms: config.transforms.map((transform) => transform.name),
  };
}
