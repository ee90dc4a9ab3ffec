/**
 * Which legacy database a command uses when none is named (kept free of heavy imports: every command's
 * --help loads the module that calls it).
 */
import { join } from 'node:path';

/** dualrun's own embedded PGlite database, in the cache folder: the legacy database when none is named. */
export const ownDatabaseUrl = (env: { cacheDir: string }): string => `pglite:${join(env.cacheDir, 'pglite')}`;

/** The legacy database a command uses: its --db, else DATABASE_URL, else dualrun's own embedded one. */
export const legacyDatabaseUrl = (env: { cacheDir: string; databaseUrl?: string | undefined }, flag: string | undefined): string => flag ?? env.databaseUrl ?? ownDatabaseUrl(env);
