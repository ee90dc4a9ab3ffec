/**
 * Checks a transformation against its project's domain once, when the config loads: its pipeline reads
 * this domain, from an entity it declares, joins only entities it declares (and only those in `joins`),
 * reads only fields they declare, returns the contract's columns, and its window and aggregations make
 * sense. The types catch most of this in the user's editor; this catches the rest at load time, as a
 * ConfigError naming the transformation, the key and the fix. Field reads are found by a dry run of the
 * pipeline's functions on sample rows that report any property they were asked for and do not have
 * (pipeline functions are pure, so running them once changes nothing); a branch the samples do not
 * take is not checked.
 */
import { ConfigError } from '../errors.ts';
import { encodeKeyArgument, type ChildModel, type DomainModel, type EntityModel, type FieldModel, type Row } from '../model/domain.ts';
import type { AggregatePipeline, PipelineContext, StreamPipeline } from '../pipeline/dsl.ts';
import type { Transform } from './contract.ts';

const DAY_MS = 24 * 3_600_000;

export function validateTransform(transform: Transform, domain: DomainModel, source = 'dualrun.config.ts'): void {
  const at = (path: string) => `transforms.${transform.name}${path ? `.${path}` : ''}`;
  const fail = (path: string, message: string, hint: string): never => {
    throw new ConfigError(at(path), `${message} (in ${source})`, { hint });
  };
  const pipeline = transform.stream as StreamPipeline | undefined;
  if (!pipeline || (pipeline.kind !== 'perKey' && pipeline.kind !== 'aggregate')) fail('stream', 'has no streaming pipeline', "build it with upsertPerKey(domain.from('…'), map) or aggregateBy(domain.from('…'), { … })");
  if (pipeline!.domain?.name !== domain.name) fail('stream', `its pipeline reads the ${pipeline!.domain?.name ?? '?'} domain, but the config's domain is ${domain.name}`, `build it with ${domain.name}.from('…'), or set domain in dualrun.config.ts`);
  const stream = pipeline!;
  const entity = domain.entity(stream.source) ?? fail('stream.source', `${domain.name} has no entity "${stream.source}"`, `read one of ${domain.entities.map((e) => e.name).join(', ')}`);
  for (const joined of Object.keys(stream.joins)) if (!domain.entity(joined)) fail(`stream.joins.${joined}`, `${domain.name} has no entity "${joined}" to join`, `join one of ${domain.entities.map((e) => e.name).join(', ')}`);
  const columns = new Set(transform.columns.map((column) => column.name));
  if (stream.kind === 'aggregate') checkAggregate(stream, transform, columns, fail);
  dryRun(stream, transform, entity, domain, columns, fail);
}

type Fail = (path: string, message: string, hint: string) => never;

function checkAggregate(stream: AggregatePipeline, transform: Transform, columns: Set<string>, fail: Fail): void {
  for (const column of Object.keys(stream.aggregations)) {
    if (!columns.has(column)) fail(`stream.aggregations.${column}`, `"${column}" is not one of its columns (${[...columns].join(', ')})`, 'aggregate into a declared column');
    if (transform.key.includes(column)) fail(`stream.aggregations.${column}`, `"${column}" is a key column: key columns come from the contribution's key`, 'aggregate only value columns');
  }
  for (const column of transform.columns) {
    if (!transform.key.includes(column.name) && !(column.name in stream.aggregations)) fail(`stream.aggregations`, `column "${column.name}" is neither a key column nor aggregated`, `add ${column.name}: count() (or sum…, min…, max…, latest…, avg…)`);
  }
  const window = stream.window;
  if (!window) return;
  if (window.size !== 'businessDay' && !(typeof window.size === 'number' && window.size >= 60_000 && Number.isInteger(window.size))) {
    fail('stream.window.size', `must be 'businessDay' or a whole number of milliseconds of at least a minute (got ${JSON.stringify(window.size)})`, 'write size: HOUR_MS, or size: 15 * MINUTE_MS');
  }
  const longest = window.size === 'businessDay' ? DAY_MS - 3_600_000 : window.size;
  if (!(window.graceMs >= 0 && window.graceMs <= longest)) fail('stream.window.graceMs', `must be from 0 to the length of a window (${longest / 60_000} min), got ${window.graceMs}`, 'give a grace no longer than one window');
  if (typeof window.eventTime !== 'function') fail('stream.window.eventTime', 'must be a function giving the instant that places a row in a window', 'write eventTime: (row) => row.someInstantField');
}

/** Sample values that pass each field's check: enough to run a pipeline's functions once. */
function sampleValue(model: FieldModel): unknown {
  const { field } = model;
  switch (field.kind) {
    case 'id':
      return 'sample1';
    case 'text':
      return 'sample';
    case 'enum':
      return field.values![0];
    case 'integer':
      return field.min ?? 1;
    case 'decimal':
      return String(field.min ?? 1);
    case 'date':
      return '2024-06-03';
    case 'instant':
      return '2024-06-03T10:00:00.000Z';
    case 'boolean':
      return true;
  }
}

// Properties a row is asked for by JavaScript itself, not by the pipeline.
const NATIVE = new Set(['toJSON', 'then', 'length', 'constructor']);

function watched(row: Row, what: string, report: (name: string) => void): Row {
  return new Proxy(row, {
    get(target, property, receiver) {
      if (typeof property === 'string' && !(property in target) && !NATIVE.has(property)) report(`${what}.${property}`);
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}

function sampleRow(fields: readonly FieldModel[], children: readonly ChildModel[], what: string, report: (name: string) => void): Row {
  const row: Row = {};
  for (const model of fields) row[model.name] = sampleValue(model);
  for (const child of children) row[child.name] = [watched(sampleRow(child.fields, [], `${what}.${child.name}[]`, report), `${what}.${child.name}[]`, report)];
  return watched(row, what, report);
}

function dryRun(stream: StreamPipeline, transform: Transform, entity: EntityModel, domain: DomainModel, columns: Set<string>, fail: Fail): void {
  let unknown: string | undefined;
  const report = (name: string) => {
    unknown ??= name;
  };
  let problem: { path: string; message: string; hint: string } | undefined;
  const view = sampleRow(entity.fields, entity.children, entity.name, report);
  const ctx: PipelineContext = {
    tables: {
      get: (name: string, key: unknown) => {
        const joined = domain.entity(name);
        if (!joined) problem ??= { path: 'stream', message: `looks up "${name}", which ${domain.name} does not declare`, hint: `look up one of ${domain.entities.map((e) => e.name).join(', ')}` };
        else if (!stream.joins[name]) problem ??= { path: 'stream.joins', message: `looks up ${name} without declaring it in joins`, hint: `add joins: { ${name}: 'latest' } (or 'asOfEventTime') to its from()` };
        else {
          try {
            encodeKeyArgument(joined, key);
          } catch (error) {
            problem ??= { path: 'stream', message: (error as Error).message, hint: `pass ${joined.key.length === 1 ? `the ${joined.key[0]} value` : `{ ${joined.key.join(', ')} }`}` };
          }
          return sampleRow(joined.fields, joined.children, name, report) as never;
        }
        return undefined as never;
      },
    },
    dayOf: () => '2024-06-03',
    pin: { eventId: 'sample-event', arrival: '2024-06-03T10:00:00.000Z' },
  };
  const attempt = <T>(run: () => T): T | undefined => {
    try {
      return run();
    } catch {
      return undefined; // the samples took a path the real data may not: only reads and lookups are judged
    }
  };
  attempt(() => stream.filter(view));
  if (stream.kind === 'perKey') {
    const row = attempt(() => stream.map(view, ctx));
    for (const column of Object.keys(row ?? {})) {
      if (!columns.has(column)) problem ??= { path: 'stream', message: `its map returns the column "${column}", which the contract does not declare`, hint: `declare ${column} under columns, or leave it out of the row` };
    }
  } else {
    const contributions = attempt(() => stream.flatMap(view, ctx));
    for (const contribution of Array.isArray(contributions) ? contributions : []) {
      const keys = Object.keys(contribution?.key ?? {});
      if (keys.sort().join() !== [...transform.key].sort().join()) problem ??= { path: 'stream', message: `its flatMap gives a key of (${keys.join(', ')}), the contract's key is (${transform.key.join(', ')})`, hint: 'give each contribution exactly the key columns' };
      for (const [column, aggregation] of Object.entries(stream.aggregations)) {
        if ('field' in aggregation && !(aggregation.field in (contribution?.values ?? {}))) {
          problem ??= { path: `stream.aggregations.${column}`, message: `aggregates the field "${aggregation.field}", which its flatMap's values do not carry`, hint: `put ${aggregation.field} into each contribution's values` };
        }
      }
    }
    if (stream.window) attempt(() => stream.window!.eventTime(view));
  }
  if (problem) fail(problem.path, problem.message, problem.hint);
  if (unknown) fail('stream', `reads ${unknown}, which the ${domain.name} domain does not declare`, `read a declared field of ${unknown.split('.')[0]}`);
}
