/** Replay: one scenario into the legacy database and the Kafka input topics (see replay.ts). */
export { replay, DEFAULT_BATCH_SIZE, type ReplayOptions, type ReplaySummary } from './replay.ts';
export type { KafkaTarget } from './kafka.ts';
export type { DatabaseCounts } from './database.ts';
export { createDomainSchema, domainTables, missingTables } from './schema.ts';
