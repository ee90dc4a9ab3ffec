/** Tests start their PostgreSQL with wal_level=logical the way the CDC demo does. */
export { startThrowawayPostgres, type ThrowawayPostgres } from '../../streaming/connect/throwaway-postgres.ts';
