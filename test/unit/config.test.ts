// One test per configuration rule: each bad value names its key, the rule and the fix.
import { describe, expect, it } from 'vitest';
import { readEnvConfig } from '../../src/config.ts';
import { ConfigError, ExitCode } from '../../src/errors.ts';

function errorFor(env: NodeJS.ProcessEnv): ConfigError {
  try {
    readEnvConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('environment configuration', () => {
  it('reads a valid environment', () => {
    const config = readEnvConfig({ KAFKA_BROKERS: 'a:9092, b.example:9093', DATABASE_URL: 'postgres://u@h:5432/db', DUALRUN_CACHE_DIR: '/tmp/x', DUALRUN_LOG_LEVEL: 'info' });
    expect(config.kafkaBrokers).toEqual(['a:9092', 'b.example:9093']);
    expect(config.databaseUrl).toBe('postgres://u@h:5432/db');
    expect(config.cacheDir).toBe('/tmp/x');
    expect(config.logLevel).toBe('info');
  });

  it('treats empty variables as unset and defaults the cache folder', () => {
    const config = readEnvConfig({ KAFKA_BROKERS: '', XDG_CACHE_HOME: '/cache' });
    expect(config.kafkaBrokers).toBeUndefined();
    expect(config.cacheDir).toBe('/cache/dualrun');
  });

  it('KAFKA_BROKERS must be host:port entries', () => {
    const error = errorFor({ KAFKA_BROKERS: 'localhost' });
    expect(error.key).toBe('KAFKA_BROKERS');
    expect(error.exitCode).toBe(ExitCode.config);
    expect(error.describe()).toContain('config KAFKA_BROKERS: must be a comma-separated list of host:port (got "localhost")');
    expect(error.describe()).toContain('fix: set it like KAFKA_BROKERS=127.0.0.1:9092');
  });

  it('CONNECT_URL must be an http(s) URL of a Connect REST API (a trailing slash dropped)', () => {
    expect(readEnvConfig({ CONNECT_URL: 'http://connect:8083/' }).connectUrl).toBe('http://connect:8083');
    const error = errorFor({ CONNECT_URL: 'connect:8083' });
    expect(error.key).toBe('CONNECT_URL');
    expect(error.describe()).toContain('config CONNECT_URL: must');
    expect(error.describe()).toContain('fix: point it at an existing Kafka Connect cluster');
  });

  it('DATABASE_URL must name a supported engine', () => {
    const error = errorFor({ DATABASE_URL: 'sqlite://file.db' });
    expect(error.key).toBe('DATABASE_URL');
    expect(error.message).toContain('must start with postgres://, mysql://, mariadb:// or pglite:');
  });

  it('never prints the password of a bad database URL', () => {
    const error = errorFor({ DATABASE_URL: 'postgress://etl:S3cret@db/shop' });
    expect(error.describe()).toContain('postgress://etl:***@db/shop');
    expect(error.describe()).not.toContain('S3cret');
  });

  it('MYSQL_URL must name a supported engine', () => {
    expect(errorFor({ MYSQL_URL: 'http://x' }).key).toBe('MYSQL_URL');
  });

  it('DUALRUN_LOG_LEVEL must be a known level', () => {
    const error = errorFor({ DUALRUN_LOG_LEVEL: 'loud' });
    expect(error.key).toBe('DUALRUN_LOG_LEVEL');
    expect(error.hint).toBe('use one of debug, info, warn, error, silent');
  });

  it('KAFKA_HOME and DUALRUN_CACHE_DIR must not be blank', () => {
    expect(errorFor({ KAFKA_HOME: '   ' }).key).toBe('KAFKA_HOME');
    expect(errorFor({ DUALRUN_CACHE_DIR: '  ' }).key).toBe('DUALRUN_CACHE_DIR');
  });
});
