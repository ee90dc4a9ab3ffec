/**
 * Configuration, validated once at the edge. Today it comes from the environment; `dualrun.config.ts`
 * (defineConfig) layers on top of the same schema. A bad value becomes a ConfigError naming the key,
 * the rule it broke and the fix.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.ts';

const hostPort = /^[A-Za-z0-9._-]+:\d{1,5}$/;

/** The URL with any password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}

export const brokersSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .transform((value) => value.split(',').map((broker) => broker.trim()))
  .refine((brokers) => brokers.every((broker) => hostPort.test(broker)), 'must be a comma-separated list of host:port');

export const databaseUrlSchema = z
  .string()
  .trim()
  .refine((url) => /^(postgres|postgresql|mysql|mariadb|pglite):/.test(url), 'must start with postgres://, mysql://, mariadb:// or pglite: (pglite:memory or pglite:/path/to/dir)');

export const logLevelSchema = z.enum(['debug', 'info', 'warn', 'error', 'silent']);

/** Where each environment variable's rule, and its fix, are written down. */
const envRules = {
  KAFKA_BROKERS: { schema: brokersSchema.optional(), fix: 'set it like KAFKA_BROKERS=127.0.0.1:9092,127.0.0.1:9093, or unset it to let dualrun start a local broker' },
  KAFKA_HOME: { schema: z.string().trim().min(1, 'must not be empty').optional(), fix: 'point it at an unpacked Apache Kafka distribution (the folder holding libs/), or unset it' },
  DATABASE_URL: { schema: databaseUrlSchema.optional(), fix: 'for example DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop, or unset it to use embedded PGlite' },
  MYSQL_URL: { schema: databaseUrlSchema.optional(), fix: 'for example MYSQL_URL=mysql://root@127.0.0.1:3306/shop' },
  DUALRUN_CACHE_DIR: { schema: z.string().trim().min(1, 'must not be empty').optional(), fix: 'point it at a writable folder, or unset it to use ~/.cache/dualrun' },
  DUALRUN_LOG_LEVEL: { schema: logLevelSchema.optional(), fix: 'use one of debug, info, warn, error, silent' },
  CONNECT_URL: {
    schema: z.string().trim().url('must be a URL').refine((url) => /^https?:\/\//.test(url), 'must start with http:// or https://').transform((url) => url.replace(/\/+$/, '')).optional(),
    fix: "point it at an existing Kafka Connect cluster's REST API, like CONNECT_URL=http://127.0.0.1:8083, or unset it to let dualrun cdc start a local worker",
  },
  DUALRUN_CONFIG: { schema: z.string().trim().min(1, 'must not be empty').optional(), fix: 'point it at your dualrun.config.ts, or unset it to use ./dualrun.config.ts' },
} as const;

export interface EnvConfig {
  /** Existing Kafka cluster; undefined means "start the local broker". */
  kafkaBrokers: string[] | undefined;
  kafkaHome: string | undefined;
  databaseUrl: string | undefined;
  mysqlUrl: string | undefined;
  cacheDir: string;
  logLevel: z.infer<typeof logLevelSchema> | undefined;
  /** dualrun.config.ts to read instead of ./dualrun.config.ts. */
  configPath: string | undefined;
  /** An existing Kafka Connect cluster's REST API; undefined means `dualrun cdc` starts a local worker. */
  connectUrl?: string | undefined;
  /** Topic prefix: dualrun.config.ts's kafka.topicPrefix, else the domain's name. */
  topicPrefix?: string | undefined;
  /** Partitions of the topics dualrun creates, from dualrun.config.ts (kafka.partitions). */
  partitions?: number | undefined;
}

export function readEnvConfig(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  const read = <K extends keyof typeof envRules>(key: K): z.output<(typeof envRules)[K]['schema']> => {
    const raw = env[key] === '' ? undefined : env[key];
    const result = envRules[key].schema.safeParse(raw);
    if (!result.success) {
      const rule = result.error.issues[0]?.message ?? 'is invalid';
      // URLs may carry a password: never print it.
      const shown = raw !== undefined && key.endsWith('_URL') ? redactUrl(raw) : raw;
      throw new ConfigError(key, `${rule} (got ${JSON.stringify(shown)})`, { hint: envRules[key].fix });
    }
    return result.data as z.output<(typeof envRules)[K]['schema']>;
  };
  return {
    kafkaBrokers: read('KAFKA_BROKERS'),
    kafkaHome: read('KAFKA_HOME'),
    databaseUrl: read('DATABASE_URL'),
    mysqlUrl: read('MYSQL_URL'),
    cacheDir: read('DUALRUN_CACHE_DIR') ?? join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'dualrun'),
    logLevel: read('DUALRUN_LOG_LEVEL'),
    configPath: read('DUALRUN_CONFIG'),
    connectUrl: read('CONNECT_URL'),
  };
}
