/**
 * The comparator's library API (the demo and the CI gate call it): `compareRelations` compares two
 * sources by key in one DuckDB database, `compareTransform` compares a transformation's batch table
 * with its streaming output topic under its contract, `buildReport` / `writeReports` render results.
 */
import type { Knex } from 'knex';
import type { TransformContract, ColumnRule, Column } from '../src/transforms/contract.ts';
import { UsageError } from '../src/errors.ts';
import type { Delivery } from '../src/model/events.ts';
import type { PipelineTransform } from '../src/pipeline/processor.ts';
import { openDuck, type Duck } from './duck.ts';
import { TextTableWriter, loadCsv, loadDatabase, loadParquet, type Loaded } from './load.ts';
import { loadOutputTopic } from './load-topic.ts';
import { markRedeliveries, readInputEvents } from './events.ts';
import { diffTables } from './diff.ts';
import { explain } from './explain.ts';
import { describeSpec, type SourceSpec } from './spec.ts';
import { REPORT_SCHEMA_VERSION, type ComparisonResult, type Report, type SettledWindow } from './types.ts';

export { parseSpec, describeSpec, type SourceSpec } from './spec.ts';
export { writeReports, type ReportFormat } from './report/index.ts';
export { appendHistory, readHistory } from './history.ts';
export * from './types.ts';

/** The run's input events: given (a scenario's), or to be read once from the input topics. */
export type EventsSource = Iterable<Delivery> | { brokers: string[]; topicPrefix: string };

export interface CompareRelationsOptions {
  name?: string;
  left: SourceSpec;
  right: SourceSpec;
  key: string[];
  /** Declared columns (a contract's): kinds and rules. */
  columns?: readonly Column[];
  rules?: Record<string, ColumnRule>;
  /** The rules were typed as --tolerance / --rule: refuse one that does not fit its column. */
  rulesFromFlags?: boolean;
  window?: SettledWindow;
  /** The transformation whose pipeline explains the differences (a comparison of two relations has none). */
  transform?: PipelineTransform & Partial<TransformContract>;
  /** The run's input events, for explanations: given, or read from the input topics (once per shared `cache`). */
  events?: EventsSource;
  /** The run's cut-off / watermark (explanations: what the batch could see). */
  watermark?: Date;
  /** Explanations: the batch output is dated (computed once per business date at its cut-off). */
  dated?: boolean;
  /** Local time of the nightly cut-off (default "02:00"). */
  cutoffTime?: string;
  /** The dates the batch ran for: a dated output's rows of other dates are "not run by batch", not compared. */
  batchDates?: readonly string[];
  db?: Knex;
  brokers?: string[];
  /** Reuse one database for several comparisons. */
  duck?: Duck;
  /** Input events read once for several comparisons. */
  eventCache?: { events?: Delivery[] };
  sampleLimit?: number;
  differenceLimit?: number;
  progress?: (text: string) => void;
}

let comparisonCounter = 0;

async function load(duck: Duck, table: string, spec: SourceSpec, options: CompareRelationsOptions): Promise<Loaded> {
  switch (spec.kind) {
    case 'csv':
      return loadCsv(duck, table, spec.path);
    case 'parquet':
      return loadParquet(duck, table, spec.path);
    case 'db':
      if (!options.db) throw new UsageError(`${describeSpec(spec)} needs a database`, { hint: 'give --db URL (or set DATABASE_URL)' });
      return loadDatabase(duck, table, { knex: options.db, table: spec.table, source: describeSpec(spec), types: 'native' }, (rows) => options.progress?.(`loading ${describeSpec(spec)}: ${rows.toLocaleString('en')} rows`));
    case 'kafka':
      if (!options.brokers) throw new UsageError(`${describeSpec(spec)} needs Kafka brokers`, { hint: 'give --brokers host:port (or set KAFKA_BROKERS)' });
      return loadOutputTopic(duck, table, options.brokers, spec.topic, options.columns?.map((column) => column.name));
    case 'rows': {
      const writer = new TextTableWriter(duck, table, spec.columns);
      await writer.open();
      writer.append(spec.rows);
      return writer.close();
    }
  }
}

export async function compareRelations(options: CompareRelationsOptions): Promise<ComparisonResult> {
  if (options.key.length === 0) throw new UsageError('a comparison needs a key', { hint: 'give --key COL[,COL…]' });
  const duck = options.duck ?? (await openDuck());
  const prefix = `c${++comparisonCounter}`;
  const name = options.name ?? `${describeSpec(options.left)} vs ${describeSpec(options.right)}`;
  try {
    const started = Date.now();
    const left = await load(duck, `${prefix}_left`, options.left, options);
    const right = await load(duck, `${prefix}_right`, options.right, options);
    const events = options.transform ? await inputEvents(options) : undefined;
    const loadMs = Date.now() - started;
    const dateColumn = options.dated ? options.transform?.dateColumn : undefined;
    const ranDates = dateColumn && options.batchDates ? { dateColumn, dates: options.batchDates } : undefined;
    options.progress?.(`${name}: loaded ${left.rows.toLocaleString('en')} and ${right.rows.toLocaleString('en')} rows; comparing`);
    const outcome = await diffTables(duck, { name, leftTable: left.table, rightTable: right.table, leftSource: describeSpec(options.left), rightSource: describeSpec(options.right), key: options.key, ...(options.columns ? { columns: options.columns } : {}), ...(options.rules ? { rules: options.rules } : {}), ...(options.rulesFromFlags ? { rulesFromFlags: true } : {}), ...(options.window ? { window: options.window } : {}), ...(ranDates ? { ranDates } : {}) }, prefix);
    const explainStarted = Date.now();
    const watermark = options.watermark ?? options.window?.watermark;
    const { explained, differences } = await explain(
      duck,
      outcome,
      {
        transform: options.transform?.stream ? options.transform : undefined,
        events,
        dated: options.dated ?? false,
        eventTimeField: options.transform?.time?.eventTimeField,
        dayColumn: options.transform ? dayColumnOf(options.transform) : undefined,
        cutoffTime: options.cutoffTime ?? '02:00',
        watermark,
        ...(options.batchDates ? { batchDates: options.batchDates } : {}),
        limit: options.differenceLimit ?? 500,
      },
      prefix,
    );
    const { counts, schema } = outcome;
    return {
      name,
      left: { source: describeSpec(options.left), rows: outcome.leftRows },
      right: { source: describeSpec(options.right), rows: outcome.rightRows },
      key: options.key,
      counts,
      notYetComparable: { ...outcome.notYetComparable, watermark: options.window?.watermark.toISOString() ?? null },
      notRunByBatch: outcome.notRunByBatch,
      findings: outcome.findings,
      schema,
      columns: outcome.columns,
      samples: outcome.samples.slice(0, options.sampleLimit ?? 20 * 4),
      explained,
      differences,
      parity: counts.mismatch === 0 && counts.onlyLeft === 0 && counts.onlyRight === 0 && schema.onlyLeft.length === 0 && schema.onlyRight.length === 0 && outcome.findings.nullKeys.leftRows === outcome.findings.nullKeys.rightRows,
      durationsMs: { load: loadMs, ...outcome.durationsMs, explain: Date.now() - explainStarted },
    };
  } finally {
    if (!options.duck) duck.close();
  }
}

/** The input events of the comparison (read from the topics once per event cache), or undefined when none were given. */
async function inputEvents(options: CompareRelationsOptions): Promise<Delivery[] | undefined> {
  if (!options.events) return undefined;
  if (options.eventCache?.events) return options.eventCache.events;
  let events: Delivery[];
  if (Symbol.iterator in options.events) events = markRedeliveries(options.events);
  else {
    const domain = options.transform?.stream?.domain;
    if (!domain) return undefined;
    events = await readInputEvents(domain, options.events.brokers, options.events.topicPrefix);
  }
  if (options.eventCache) options.eventCache.events = events;
  return events;
}

export interface CompareTransformOptions extends Omit<CompareRelationsOptions, 'left' | 'right' | 'key' | 'columns' | 'name' | 'window' | 'dated' | 'transform'> {
  /** A transformation, or only its contract (then nothing is explained by the events). */
  transform: TransformContract & { stream?: PipelineTransform['stream'] };
  /** Output topic prefix (default the domain's name). */
  topicPrefix?: string;
}

/** What a transformation's contract says about comparing its outputs: key, columns and rules, time semantics. */
export function contractOptions(transform: TransformContract, watermark: Date | undefined): Pick<CompareRelationsOptions, 'name' | 'key' | 'columns' | 'dated' | 'window'> {
  const window: SettledWindow | undefined =
    transform.time.window === 'day' && transform.dateColumn && watermark
      ? { dateColumn: transform.dateColumn, graceMs: transform.time.graceMs, timeZone: transform.time.timeZone, watermark }
      : undefined;
  return {
    name: transform.name,
    key: transform.key,
    columns: transform.columns,
    dated: transform.dateColumn !== undefined,
    ...(window ? { window } : {}),
  };
}

/** `db:batch_<name>` against `kafka:<prefix>.out.<name>` under the transformation's contract. */
export async function compareTransform(options: CompareTransformOptions): Promise<ComparisonResult> {
  const { transform, ...rest } = options;
  const prefix = options.topicPrefix ?? transform.stream?.domain.name ?? 'dualrun';
  return compareRelations({
    ...rest,
    ...(transform.stream ? { transform: { ...transform, stream: transform.stream } } : {}),
    ...contractOptions(transform, options.watermark),
    left: { kind: 'db', table: `batch_${transform.name}` },
    right: { kind: 'kafka', topic: `${prefix}.out.${transform.name}` },
  });
}

/** Several transformations compared in one DuckDB database (input events loaded once), as one report. */
export async function compareTransforms(
  transforms: readonly CompareTransformOptions['transform'][],
  options: Omit<CompareTransformOptions, 'transform' | 'duck'> & { onCompared?: (result: ComparisonResult, ms: number) => void },
): Promise<Report> {
  const { onCompared, ...shared } = options;
  const duck = await openDuck();
  const results: ComparisonResult[] = [];
  const eventCache = options.eventCache ?? {};
  try {
    for (const transform of transforms) {
      const started = Date.now();
      const result = await compareTransform({ ...shared, transform, duck, eventCache });
      results.push(result);
      onCompared?.(result, Date.now() - started);
    }
  } finally {
    duck.close();
  }
  return buildReport(results);
}

export function buildReport(comparisons: ComparisonResult[], generatedAt = new Date()): Report {
  return { schemaVersion: REPORT_SCHEMA_VERSION, tool: 'dualrun', generatedAt: generatedAt.toISOString(), parity: comparisons.every((comparison) => comparison.parity), comparisons };
}

/** The date column of a contract that windows by day: each row's date is its event time's business day. */
function dayColumnOf(transform: Partial<Pick<TransformContract, 'columns' | 'dateColumn' | 'time'>>): string | undefined {
  const column = transform.columns?.find((candidate) => candidate.name === transform.dateColumn);
  return transform.time?.window === 'day' && column?.type === 'date' ? column.name : undefined;
}
