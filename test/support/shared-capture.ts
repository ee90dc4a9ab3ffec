/**
 * One PostgreSQL cluster with wal_level=logical and one Kafka Connect worker for a whole suite of CDC
 * runs: each run gets a database of its own on the cluster and registers its connector on the worker
 * (CONNECT_URL), so a suite starts a cluster and a JVM once, not once per run. Runs share the 2 cores,
 * so `limited` keeps a few at a time.
 */
import { readEnvConfig } from '../../src/config.ts';
import { startLocalConnect, type LocalConnect } from '../../streaming/connect/local-connect.ts';
import { brokers } from './kafka.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from './throwaway-postgres.ts';

export interface SharedCapture {
  pg: ThrowawayPostgres;
  connect: LocalConnect;
  /** The URL of database `name` on the cluster (`dualrun demo` creates it). */
  databaseUrl(name: string): string;
  stop(): Promise<void>;
}

export async function startSharedCapture(): Promise<SharedCapture> {
  // A replication slot and a WAL sender per run going at once.
  const pg = await startThrowawayPostgres({ max_replication_slots: '10', max_wal_senders: '10' });
  const connect = await startLocalConnect({ cacheDir: readEnvConfig().cacheDir, brokers: brokers(), kinds: ['postgres'] }).catch(async (error: unknown) => {
    await pg.stop();
    throw error;
  });
  return {
    pg,
    connect,
    databaseUrl: (name) => pg.url.replace(/\/postgres$/, `/${name.replaceAll('-', '_')}`),
    async stop() {
      await connect.stop();
      await pg.stop();
    },
  };
}

/** At most `limit` of the callers run at once. */
export function limited(limit: number): <T>(work: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (work) => {
    while (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active += 1;
    try {
      return await work();
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
}
