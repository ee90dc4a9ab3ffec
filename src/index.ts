/**
 * dualrun's public API, for a team's own domain, transformations and `dualrun.config.ts`:
 * `import { defineDomain, defineTransform, defineConfig } from 'dualrun'`. The example shop is written
 * only against this (`dualrun/shop`), and so is every user project.
 */
// First: fixes kafkajs' read_committed filter before kafkajs loads.
import './kafkajs-fixes.ts';

// The domain: entities, typed fields, event kinds.
export { defineDomain, fold, hardDelete, patch, upsert } from './model/domain.ts';
export type { ChildInput, Domain, DomainInput, DomainModel, EntityInput, EntityModel, EventKind, GeneratorOption, KeyOf, Row, ScenarioGenerator, TableInput, ViewOf } from './model/domain.ts';
export { field, optional, type Field, type FieldKind } from './model/fields.ts';
export { HEADERS, SCHEMA_VERSION, type Delivery, type DomainEvent } from './model/events.ts';

// Transformations: the contract and its two halves.
export { defineTransform, type BatchContext, type Column, type ColumnRule, type ColumnType, type TimeSemantics, type Transform, type TransformContract } from './transforms/contract.ts';
export { businessDateSql } from './transforms/sql.ts';
export { HOUR_MS, MINUTE_MS, aggregateBy, avg, count, latest, max, min, sumDecimal, sumInteger, upsertPerKey } from './pipeline/dsl.ts';
export type { Aggregation, AggregatePipeline, Contribution, LookupMode, OutputRow, OutputValue, PerKeyPipeline, PipelineContext, Source, StreamPipeline, TableLookup, WindowSpec } from './pipeline/dsl.ts';

// Helpers pipelines and generators use: exact decimals, business time, memos, scenario files.
export { divRound, fromUnits, roundDecimal, sumDecimals, toUnits } from './decimal.ts';
export { businessDay, cutoffFor, dayBounds, localToInstant, nextDate } from './time.ts';
export { memoised } from './memo.ts';
export { CsvWriter, openScenarioFiles, seededRandom, writeScenarioInfo } from './scenario/writer.ts';

// The config file and the comparator's vocabulary.
export { defineConfig, type DualrunConfigInput, type Stage } from './config-file.ts';
export { DIFFERENCE_CATEGORIES, type DifferenceCategory } from './differences.ts';
export type { Engine } from './db.ts';
