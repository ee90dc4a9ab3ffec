/**
 * Loads a scenario folder (format: fixtures/README.md, files derived from the domain in files.ts) into
 * events in arrival order. Everything is validated before anything is returned — CSV syntax and types,
 * per-type required fields, child rows against their parents, redeliveries against the event they
 * repeat, scenario.json, and the expected differences against the transformations' keys and the
 * scenario's event ids — and all problems are reported together in one ScenarioInputError, so a
 * scenario with any bad row is never applied.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { DIFFERENCE_CATEGORIES, type DifferenceCategory } from '../differences.ts';
import { InputError, UsageError } from '../errors.ts';
import type { DomainModel } from '../model/domain.ts';
import { SCHEMA_VERSION, type Delivery, type DomainEvent } from '../model/events.ts';
import { isDate } from '../model/fields.ts';
import type { TransformContract } from '../transforms/contract.ts';
import { problemAt, type Position } from './csv.ts';
import { readScenarioEvents } from './files.ts';

/** What a scenario is read against: the domain (its files) and the transformations (its expected differences). */
export interface ScenarioProject {
  domain: DomainModel;
  transforms: readonly TransformContract[];
}

export interface ScenarioEvent extends Delivery {
  event: DomainEvent;
  /** When the systems learnt of it: ISO UTC with milliseconds. */
  arrivalTime: string;
  /** A repeat of an event id seen earlier in arrival order (at-least-once delivery). */
  redelivery: boolean;
  /** The CSV row it came from; `file` is the file name inside the scenario folder. */
  source: { file: string; line: number };
}

export interface ExpectedDifference {
  key: Record<string, string | number>;
  category: DifferenceCategory;
  columns?: string[];
  /** Event ids that prove it. */
  events: string[];
}
export type ExpectedDifferences = Record<string, ExpectedDifference[]>;

export interface Scenario {
  name: string;
  dir: string;
  description: string;
  businessDates: string[];
  cutoffTime: string;
  events: ScenarioEvent[];
  expectedDifferences: ExpectedDifferences;
}

/** All problems of a scenario at once; `problems` each name file:line:column. Nothing was applied. */
export class ScenarioInputError extends InputError {
  readonly problems: InputError[];
  constructor(dir: string, problems: InputError[]) {
    const listed = problems.slice(0, 50).map((problem) => `  ${problem.describe().replaceAll('\n', '\n  ')}`);
    const more = problems.length > 50 ? [`  … and ${problems.length - 50} more`] : [];
    super(dir, undefined, undefined, `scenario rejected, nothing applied — ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${[...listed, ...more].join('\n')}`, {
      hint: 'fix the rows listed (each as file:line:column) and run again',
    });
    this.problems = problems;
  }
}

/** `name` → the domain's scenario folder/<name>; anything that looks like a path (or an existing folder) is used as is. */
export function resolveScenarioDir(nameOrDir: string, domain: DomainModel): string {
  const looksLikePath = isAbsolute(nameOrDir) || nameOrDir.includes('/') || nameOrDir.includes('\\') || nameOrDir.startsWith('.');
  const named = domain.scenarios === undefined ? resolve(nameOrDir) : join(domain.scenarios, nameOrDir);
  const dir = looksLikePath || (existsSync(nameOrDir) && statSync(nameOrDir).isDirectory()) ? resolve(nameOrDir) : named;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    const names = listScenarioNames(domain);
    throw new UsageError(`no scenario "${nameOrDir}" (looked for the folder ${dir})`, { hint: names.length > 0 ? `use one of ${names.join(', ')}, or the path of a scenario folder` : 'give the path of a scenario folder' });
  }
  return dir;
}

/** The named scenarios of a domain: the folders of its scenario folder holding a scenario.json. */
export function listScenarioNames(domain: DomainModel): string[] {
  const dir = domain.scenarios;
  if (dir === undefined || !existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => existsSync(join(dir, name, 'scenario.json'))).sort();
}

/** A path as people should see it in messages: relative to the working directory when inside it. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

const dateSchema = z.string().refine(isDate, 'a date like 2024-10-27');

const scenarioJsonSchema = z.strictObject({
  businessDates: z.array(dateSchema).min(1),
  cutoffTime: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time HH:MM like 02:00').optional(),
});

export async function loadScenario(nameOrDir: string, project: ScenarioProject): Promise<Scenario> {
  const dir = resolveScenarioDir(nameOrDir, project.domain);
  const problems: InputError[] = [];
  const fileOf = (name: string) => displayPath(join(dir, name));

  const settings = await readJson(join(dir, 'scenario.json'), fileOf('scenario.json'), problems);
  const parsedSettings = settings === undefined ? undefined : scenarioJsonSchema.safeParse(settings);
  if (parsedSettings && !parsedSettings.success) problems.push(...zodProblems(fileOf('scenario.json'), parsedSettings.error, settings));
  const businessDates = parsedSettings?.success ? parsedSettings.data.businessDates : [];
  if ([...businessDates].sort().join() !== businessDates.join() || new Set(businessDates).size !== businessDates.length) {
    problems.push(problemAt(fileOf('scenario.json'), undefined, 'businessDates', 'distinct dates in ascending order', JSON.stringify(businessDates)));
  }

  const events = orderByArrival(await readScenarioEvents(project.domain, dir, fileOf, problems), fileOf, problems);
  // Built only when expected differences name events: a generated million-event scenario names none.
  let eventIds: Set<string> | undefined;
  const hasEvent = (id: string): boolean => (eventIds ??= new Set(events.map((event) => event.event.eventId))).has(id);
  const contracts = Object.fromEntries(project.transforms.map((transform) => [transform.name, transform]));
  const expectedDifferences = await readExpectedDifferences(join(dir, 'expected-differences.json'), fileOf('expected-differences.json'), contracts, hasEvent, problems);
  const description = await readDescription(join(dir, 'README.md'), fileOf('README.md'), problems);

  if (problems.length > 0) throw new ScenarioInputError(displayPath(dir), problems);
  return {
    name: basename(dir),
    dir,
    description,
    businessDates,
    cutoffTime: (parsedSettings?.success ? parsedSettings.data.cutoffTime : undefined) ?? '02:00',
    events,
    expectedDifferences,
  };
}

/** Sorts by arrival time (stable: ties keep file order — the domain's entities in declaration order) and marks redeliveries. */
function orderByArrival(events: ScenarioEvent[], fileOf: (name: string) => string, problems: InputError[]): ScenarioEvent[] {
  events.sort((a, b) => (a.arrivalTime < b.arrivalTime ? -1 : a.arrivalTime > b.arrivalTime ? 1 : 0));
  const firstSeen = new Map<string, ScenarioEvent>();
  const kept: ScenarioEvent[] = [];
  for (const scenarioEvent of events) {
    const original = firstSeen.get(scenarioEvent.event.eventId);
    if (!original) {
      firstSeen.set(scenarioEvent.event.eventId, scenarioEvent);
      kept.push(scenarioEvent);
      continue;
    }
    const difference = differingField(original.event, scenarioEvent.event);
    if (difference) {
      const { file, line } = scenarioEvent.source;
      problems.push(problemAt(fileOf(file), { line, column: 1 }, difference, `a redelivery of event ${original.event.eventId} (first at ${original.source.file}:${original.source.line}) to repeat it exactly`, 'a different value', 'give a different event its own event_id'));
      continue;
    }
    scenarioEvent.redelivery = true;
    kept.push(scenarioEvent);
  }
  return kept;
}

function differingField(a: DomainEvent, b: DomainEvent): string | undefined {
  if (a.type !== b.type) return 'type';
  if (a.eventTime !== b.eventTime) return 'event_time';
  return JSON.stringify(a.payload) === JSON.stringify(b.payload) && a.schemaVersion === SCHEMA_VERSION ? undefined : 'payload';
}

async function readJson(path: string, shown: string, problems: InputError[]): Promise<unknown> {
  if (!existsSync(path)) {
    problems.push(new InputError(shown, undefined, undefined, 'expected the file, found none', { hint: 'see the scenario format in fixtures/README.md' }));
    return undefined;
  }
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    const offset = /position (\d+)/.exec((error as Error).message)?.[1];
    problems.push(problemAt(shown, offset === undefined ? undefined : positionOf(text, Number(offset)), undefined, 'valid JSON', (error as Error).message));
    return undefined;
  }
}

function positionOf(text: string, offset: number): Position {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

function zodProblems(file: string, error: z.ZodError, input: unknown): InputError[] {
  return error.issues.map((issue) => {
    let found: unknown = input;
    for (const part of issue.path) found = found !== null && typeof found === 'object' ? (found as Record<PropertyKey, unknown>)[part as PropertyKey] : undefined;
    return problemAt(file, undefined, issue.path.join('.') || undefined, issue.message, found === undefined ? 'nothing' : JSON.stringify(found));
  });
}

const expectedSchema = z.record(
  z.string(),
  z.array(
    z.strictObject({
      key: z.record(z.string(), z.union([z.string(), z.number()])),
      category: z.enum(Object.keys(DIFFERENCE_CATEGORIES) as [DifferenceCategory, ...DifferenceCategory[]]),
      columns: z.array(z.string()).min(1).optional(),
      events: z.array(z.string()).min(1),
    }),
  ),
);

async function readExpectedDifferences(path: string, shown: string, contracts: Record<string, TransformContract>, hasEvent: (id: string) => boolean, problems: InputError[]): Promise<ExpectedDifferences> {
  const json = await readJson(path, shown, problems);
  if (json === undefined) return {};
  const parsed = expectedSchema.safeParse(json);
  if (!parsed.success) {
    problems.push(...zodProblems(shown, parsed.error, json));
    return {};
  }
  for (const [transform, differences] of Object.entries(parsed.data)) {
    const contract = contracts[transform];
    if (!contract) {
      problems.push(problemAt(shown, undefined, transform, `a transformation name (${Object.keys(contracts).join(', ')})`, JSON.stringify(transform)));
      continue;
    }
    const columnNames: string[] = contract.columns.map((column) => column.name);
    differences.forEach((difference, index) => {
      const where = `${transform}[${index}]`;
      const keys = Object.keys(difference.key);
      if (keys.sort().join() !== [...contract.key].sort().join()) problems.push(problemAt(shown, undefined, `${where}.key`, `exactly the key columns ${contract.key.join(', ')}`, keys.join(', ') || 'none'));
      for (const column of difference.columns ?? []) {
        if (!columnNames.includes(column)) problems.push(problemAt(shown, undefined, `${where}.columns`, `columns of ${transform} (${columnNames.join(', ')})`, JSON.stringify(column)));
      }
      for (const id of difference.events) {
        if (!hasEvent(id)) problems.push(problemAt(shown, undefined, `${where}.events`, "event ids of this scenario's CSV files", JSON.stringify(id)));
      }
    });
  }
  return parsed.data as ExpectedDifferences;
}

async function readDescription(path: string, shown: string, problems: InputError[]): Promise<string> {
  const line = existsSync(path)
    ? (await readFile(path, 'utf8'))
        .split(/\r?\n/)
        .map((text) => text.replace(/^#+\s*/, '').trim())
        .find((text) => text !== '')
    : undefined;
  if (!line) problems.push(new InputError(shown, undefined, undefined, 'expected a README.md whose first line says what the scenario demonstrates, found none'));
  return line ?? '';
}
