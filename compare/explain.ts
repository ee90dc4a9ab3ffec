/**
 * Explainers for any domain: each differing row is classified into one of the categories of DESIGN.md
 * section 4 (src/differences.ts), or "unexplained", with the input event ids that prove it — and only
 * when those events account for the difference itself. The transformation's own pipeline, run again
 * over the input events under each side's semantics (predict.ts), predicts what the batch and the
 * stream should hold for the row's key; a category is accepted only when the prediction equals what
 * each side holds (within the column's tolerance), and the steps between the two predictions that
 * change the row name the categories and the events. Evidence that merely touches the row's key
 * explains nothing: a real bug landing on a key with a known semantic difference stays unexplained,
 * and so does a difference between the batch SQL and the pipeline evaluated as the batch would run it —
 * two implementations of one rule that drifted apart, which is what this tool exists to find.
 */
import type { DifferenceCategory } from '../src/differences.ts';
import type { Delivery } from '../src/model/events.ts';
import type { OutputRow, OutputValue } from '../src/pipeline/dsl.ts';
import { outputKey, type PipelineTransform } from '../src/pipeline/processor.ts';
import type { ComparedColumn } from './columns.ts';
import type { Duck } from './duck.ts';
import { keyOrder, keyValue, rowToSample, type DiffOutcome } from './diff.ts';
import { CHAIN, Predictor, type KeyView, type Misdated, type PredictOptions, type ViewName } from './predict.ts';
import type { ExplainedDifference, Timeline } from './types.ts';

/** What the predictions need (predict.ts), and what the explanations are of. */
export interface ExplainOptions extends PredictOptions {
  /** The transformation whose pipeline predicts both sides (absent: a comparison of two relations). */
  transform: PipelineTransform | undefined;
  /** The run's input events, in arrival order (absent: none were loaded). */
  events: readonly Delivery[] | undefined;
  limit: number;
}

const MAX_EVENTS = 20;

/** Which cause is named first when several add up to a difference. */
const PRECEDENCE: DifferenceCategory[] = ['late_arrival', 'update_delete_semantics', 'join_as_of_event_time', 'duplicate_delivery', 'day_boundary', 'processing_time', 'rounding'];

const REASONS: Partial<Record<DifferenceCategory, string>> = {
  late_arrival: 'arrived after its window closed (plus grace), or after the batch cut-off',
  update_delete_semantics: 'changed or deleted in place after the batch froze, or a row it joins was deleted by then',
  join_as_of_event_time: 'a row it joins changed between its event and the batch run',
  duplicate_delivery: "delivered again after the stream's dedupe had forgotten its event id, and processed again",
  day_boundary: 'counted by the batch on its UTC day instead of its day in the business time zone',
  processing_time: 'counted by the batch on the day it arrived instead of the day it happened',
};

const DIAGNOSIS = {
  stream_utc: "it equals exactly what a stream cutting the business day at UTC midnight gives (rows between midnight UTC and midnight in the business time zone land on the other day); the contract's day is the business time zone's, so this is a bug in the streaming job, not the documented day-boundary difference",
  stream_arrival: 'it equals exactly what a stream windowing by arrival (processing) time gives; the contract windows by event time, so this is a bug in the streaming job',
} as const;

interface DiffRow {
  id: number;
  raw: Record<string, unknown>;
  /** The output key as the pipeline writes it. */
  key: string;
  hasLeft: boolean;
  hasRight: boolean;
  left: OutputRow | null;
  right: OutputRow | null;
}

/** A cause between two views: its category, proving events, source rows, effect on the row, and (when the category's words are not enough) why. */
interface Step {
  category: DifferenceCategory;
  events: string[];
  sources: string[];
  effect: string;
  why?: string;
}

/** What was checked for a row, as a list and as the reason's last words. */
interface Judged {
  checked: string[];
  tail: string;
}

interface RowResult {
  category: DifferenceCategory;
  reason: string;
  events: string[];
  also: DifferenceCategory[];
  checked: string[];
  /** Source rows a diagnosed stream bug moved (they explain no other row). */
  moved?: string[];
  /** Source rows whose effects this explanation uses. */
  uses?: string[];
  timeline?: Timeline;
}

export async function explain(duck: Duck, outcome: DiffOutcome, options: ExplainOptions, prefix: string): Promise<{ explained: Partial<Record<DifferenceCategory, number>>; differences: ExplainedDifference[] }> {
  const diff = `${prefix}_diff`;
  const { plan } = outcome;
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${diff} AS SELECT row_number() OVER (ORDER BY ${keyOrder(plan)}) AS id, * FROM ${outcome.rowsTable}`);
  const why = !options.transform ? 'no transformation pipeline to recompute the sides from (a comparison of two relations)' : !options.events ? 'no input events were loaded' : undefined;
  // Nothing to judge by: only the listed rows are read; the others are counted in SQL.
  const rows = await readRows(duck, diff, outcome, options.transform, why === undefined ? Infinity : options.limit);
  const results = new Map<number, RowResult>();
  if (why === undefined) {
    const predictor = new Predictor(options.transform!.stream.domain, options.transform!, options.events!, options);
    const judge = new Judge(predictor, plan.values, options.transform!, options);
    const pending = rows.filter((row) => row.raw.cat !== 'withinTolerance');
    judge.predict(pending.map((row) => row.key));
    for (const row of pending) results.set(row.id, judge.judge(row));
    judge.taint(results);
    const timelines = new Timelines(options.events!, predictor);
    for (const result of results.values()) if (result.events.length > 0) result.timeline = timelines.of(result);
  }
  const explained: Partial<Record<DifferenceCategory, number>> = {};
  if (why !== undefined) {
    // Each difference is unexplained, or rounding when within tolerance (as `fallback` and the loop below
    // say), counted in the order they first appear.
    const groups = await duck.rows<{ within: boolean; n: number | string }>(`SELECT cat = 'withinTolerance' AS within, count(*) AS n FROM ${diff} GROUP BY ALL ORDER BY min(id)`);
    for (const group of groups) explained[group.within ? 'rounding' : 'unexplained'] = Number(group.n);
  }
  const differences: ExplainedDifference[] = [];
  for (const row of rows) {
    const sample = rowToSample(row.raw, plan);
    const result: RowResult =
      sample.category === 'withinTolerance'
        ? { category: 'rounding', reason: 'equal within the declared tolerance', events: [], also: [], checked: [] }
        : (results.get(row.id) ?? fallback(why ?? 'it was not judged'));
    if (why === undefined) explained[result.category] = (explained[result.category] ?? 0) + 1;
    if (differences.length < options.limit) {
      differences.push({
        key: sample.key,
        category: sample.category,
        columns: sample.columns,
        explanation: result.category,
        events: result.events.slice(0, MAX_EVENTS),
        reason: result.reason,
        ...(result.also.length > 0 ? { also: result.also } : {}),
        ...(result.checked.length > 0 ? { checked: result.checked } : {}),
        ...(result.timeline ? { timeline: result.timeline } : {}),
      });
    }
  }
  return { explained, differences };
}

/** The first `max` differing rows (in key order), paged, with their keys as the pipeline writes keys and both sides' values. */
async function readRows(duck: Duck, diff: string, outcome: DiffOutcome, transform: PipelineTransform | undefined, max: number): Promise<DiffRow[]> {
  const { plan } = outcome;
  const rows: DiffRow[] = [];
  const page = 10_000;
  for (let offset = 0; offset < max; offset += page) {
    const batch = await duck.rows<Record<string, unknown>>(`SELECT * FROM ${diff} WHERE id > ${offset} AND id <= ${Math.min(offset + page, max)} ORDER BY id`);
    for (const raw of batch) {
      const keyRow: OutputRow = Object.fromEntries(plan.key.map((column, i) => [column.name, pinned(column, keyValue(column, raw[`k${i}`]))]));
      const side = (prefix: 'l' | 'r', present: boolean): OutputRow | null =>
        present ? { ...keyRow, ...Object.fromEntries(plan.values.map((column, i) => [column.name, raw[`${prefix}${i}`] as OutputValue])) } : null;
      rows.push({
        id: Number(raw.id),
        raw,
        key: transform ? outputKey(transform, keyRow) : JSON.stringify(Object.values(keyRow)),
        hasLeft: raw.has_l === true,
        hasRight: raw.has_r === true,
        left: side('l', raw.has_l === true),
        right: side('r', raw.has_r === true),
      });
    }
    if (batch.length < Math.min(page, max - offset)) break;
  }
  return rows;
}

/** A key value in the form pipelines write them: dates YYYY-MM-DD, instants ISO UTC with ms, numbers as numbers. */
function pinned(column: ComparedColumn, value: unknown): OutputValue {
  if (value === null || value === undefined) return null;
  switch (column.kind) {
    case 'date':
      return String(value).slice(0, 10);
    case 'timestamp': {
      const ms = Date.parse(String(value).replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
      return Number.isNaN(ms) ? String(value) : new Date(ms).toISOString();
    }
    case 'number':
      return Number.isSafeInteger(Number(value)) ? Number(value) : String(value);
    default:
      return String(value) as OutputValue;
  }
}

type Match = 'equal' | 'rounding' | 'different';

/** One value against its prediction, under the column's rule; numbers within 0.01 beyond it are rounding. */
function compareValue(column: ComparedColumn, observed: unknown, predicted: OutputValue | undefined): Match {
  const a = observed === undefined ? null : observed;
  const b = predicted === undefined ? null : predicted;
  if (a === null || b === null) return a === null && b === null && column.rule.nullEqualsNull !== false ? 'equal' : 'different';
  switch (column.kind) {
    case 'number': {
      const [x, y] = [Number(a), Number(b)];
      if (Number.isNaN(x) || Number.isNaN(y)) return String(a) === String(b) ? 'equal' : 'different';
      const delta = Math.abs(x - y);
      const allowed = Math.max(column.rule.abs ?? 0, (column.rule.rel ?? 0) * Math.max(Math.abs(x), Math.abs(y)));
      if (delta <= allowed + 1e-9) return 'equal';
      return delta <= 0.01 + 1e-9 ? 'rounding' : 'different';
    }
    case 'timestamp': {
      const unit = { ms: 1, s: 1000, min: 60_000 }[column.rule.precision ?? 'ms'];
      const parse = (value: unknown) => Math.floor(Date.parse(String(value).replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00')) / unit);
      return parse(a) === parse(b) ? 'equal' : 'different';
    }
    case 'date':
      return String(a).slice(0, 10) === String(b).slice(0, 10) ? 'equal' : 'different';
    default: {
      let [x, y] = [String(a), String(b)];
      if (column.rule.trim) [x, y] = [x.trim(), y.trim()];
      if (column.rule.caseInsensitive) [x, y] = [x.toLowerCase(), y.toLowerCase()];
      return x === y ? 'equal' : 'different';
    }
  }
}

/** A side's row against a view's prediction: presence, then every column the pipeline produces. */
function compareRow(columns: readonly ComparedColumn[], observed: OutputRow | null, predicted: OutputRow | null, produced: Set<string>): Match {
  if (observed === null || predicted === null) return observed === predicted ? 'equal' : 'different';
  let result: Match = 'equal';
  for (const column of columns) {
    if (!produced.has(column.name)) continue;
    const match = compareValue(column, observed[column.name], predicted[column.name]);
    if (match === 'different') return 'different';
    if (match === 'rounding') result = 'rounding';
  }
  return result;
}

/**
 * Nothing could be predicted (two relations compared, or no input events): unexplained, saying why.
 * Not rounding either, however close the numbers: without the events nothing shows that the sides
 * computed the same thing, and only a declared tolerance says a difference is acceptable.
 */
function fallback(why: string): RowResult {
  return { category: 'unexplained', reason: `unexplained: ${why}; suspect a bug`, events: [], also: [], checked: [] };
}

const LEFT_HYPOTHESES: [ViewName, DifferenceCategory][] = [
  ['batch_utc', 'day_boundary'],
  ['batch_arrival', 'processing_time'],
];
const RIGHT_HYPOTHESES: [ViewName, DifferenceCategory | 'stream_utc' | 'stream_arrival'][] = [
  ['stream_nodedupe', 'duplicate_delivery'],
  ['stream_utc', 'stream_utc'],
  ['stream_arrival', 'stream_arrival'],
];

/** Judges differing rows against the predictions. */
class Judge {
  private predictions = new Map<string, Partial<Record<ViewName, KeyView>>>();
  private readonly produced: Set<string>;
  private readonly numeric: ComparedColumn[];

  constructor(
    private readonly predictor: Predictor,
    private readonly values: readonly ComparedColumn[],
    private readonly transform: PipelineTransform,
    private readonly options: Pick<ExplainOptions, 'dayColumn' | 'eventTimeField'>,
  ) {
    const pipeline = transform.stream;
    // The columns the pipeline writes: an aggregate's aggregated ones; a per-key map's are found from its rows.
    this.produced = new Set(pipeline.kind === 'aggregate' ? Object.keys(pipeline.aggregations) : values.map((column) => column.name));
    this.numeric = values.filter((column) => column.kind === 'number');
  }

  predict(keys: string[]): void {
    this.predictions = this.predictor.keys([...new Set(keys)], [...CHAIN, ...LEFT_HYPOTHESES.map(([view]) => view), ...RIGHT_HYPOTHESES.map(([view]) => view)]);
    if (this.transform.stream.kind === 'perKey') {
      // A per-key map may leave a contract column out: what no view ever gives is not checked.
      const seen = new Set<string>();
      for (const views of this.predictions.values()) for (const view of Object.values(views)) for (const column of Object.keys(view?.row ?? {})) seen.add(column);
      if (seen.size > 0) for (const column of [...this.produced]) if (!seen.has(column)) this.produced.delete(column);
    }
  }

  judge(row: DiffRow): RowResult {
    const views = this.predictions.get(row.key)!;
    const checked = this.values.filter((column) => this.produced.has(column.name)).map((column) => column.name);
    const notChecked = this.values.filter((column) => !this.produced.has(column.name)).map((column) => column.name);
    const judged: Judged = {
      checked,
      tail: `checked: ${(row.left && row.right ? checked : ['presence', ...checked]).join(', ')}${notChecked.length > 0 ? `; not checked (the pipeline does not produce them): ${notChecked.join(', ')}` : ''}`,
    };
    // The left hypotheses' categories come out of steps(): their view is the chain's first.
    const misdated = this.predictor.misdatedAt(row.key);
    if (misdated.length > 0) return this.misdated(row, views, misdated, judged);
    const lefts: ViewName[] = ['batch', ...LEFT_HYPOTHESES.map(([view]) => view)];
    const rights: [ViewName, DifferenceCategory | 'stream_utc' | 'stream_arrival' | undefined][] = [['stream', undefined], ...RIGHT_HYPOTHESES];
    for (const leftView of lefts) {
      const leftMatch = compareRow(this.values, row.left, views[leftView]!.row, this.produced);
      if (leftMatch === 'different') continue;
      for (const [rightView, rightCause] of rights) {
        const rightMatch = compareRow(this.values, row.right, views[rightView]!.row, this.produced);
        if (rightMatch === 'different') continue;
        return this.explained(row, views, leftView, rightView, rightCause, leftMatch === 'rounding' || rightMatch === 'rounding', judged);
      }
    }
    return this.unexplained(row, views, judged);
  }

  /**
   * The steps from the batch's view to the stream's that change this key, with their categories and
   * events. Only source rows that end up contributing differently to the two sides count: one that a
   * step adds and a later step takes away again (a row arriving after the cut-off and too late for
   * its window) is in neither side and proves nothing.
   */
  private steps(views: Partial<Record<ViewName, KeyView>>, from: ViewName): Step[] {
    const chain: ViewName[] = [from, ...CHAIN.slice(1)];
    if (from !== 'batch') chain.splice(1, 0, 'batch');
    const matter = new Set(changedSources(views[from]!, views.stream!));
    const steps: Step[] = [];
    for (let index = 1; index < chain.length; index += 1) {
      const [before, after] = [views[chain[index - 1]!]!, views[chain[index]!]!];
      const changed = changedSources(before, after).filter((source) => matter.has(source));
      if (changed.length === 0 || this.sameView(before, after)) continue;
      const step = `${chain[index - 1]}→${chain[index]}`;
      const byCategory = new Map<DifferenceCategory, { events: string[]; sources: string[] }>();
      const add = (category: DifferenceCategory, source: string, events: string[]) => {
        let entry = byCategory.get(category);
        if (!entry) byCategory.set(category, (entry = { events: [], sources: [] }));
        entry.events.push(...events);
        entry.sources.push(source);
      };
      for (const source of changed) {
        const facts = this.predictor.factsOf(source);
        if (!facts) continue;
        switch (step) {
          case 'batch_utc→batch':
            add('day_boundary', source, facts.pin ? [facts.pin] : []);
            break;
          case 'batch_arrival→batch':
            add('processing_time', source, facts.pin ? [facts.pin] : []);
            break;
          case 'batch→joins':
            add(facts.joinDeleted ? 'update_delete_semantics' : 'join_as_of_event_time', source, facts.joinEvents);
            break;
          case 'joins→horizon':
            if (facts.existedAtB) add('update_delete_semantics', source, facts.afterB);
            else add('late_arrival', source, facts.createdBy ? [facts.createdBy] : facts.afterB);
            break;
          case 'horizon→redeliver':
            add('duplicate_delivery', source, facts.reapplied);
            break;
          case 'redeliver→stream':
            add('late_arrival', source, facts.late);
            break;
        }
      }
      for (const [category, { events, sources }] of byCategory) steps.push({ category, events, sources, effect: this.effect(before.row, after.row) });
    }
    return steps;
  }

  private explained(
    row: DiffRow,
    views: Partial<Record<ViewName, KeyView>>,
    leftView: ViewName,
    rightView: ViewName,
    rightCause: DifferenceCategory | 'stream_utc' | 'stream_arrival' | undefined,
    rounding: boolean,
    { checked, tail }: Judged,
  ): RowResult {
    const steps = this.steps(views, leftView);
    if (rightCause !== undefined) {
      const changed = changedSources(views.stream!, views[rightView]!);
      const events = rightCause === 'duplicate_delivery' ? this.predictor.duplicatedEvents(changed) : changed.flatMap((source) => this.predictor.pinOf(source) ?? []);
      if (rightCause === 'stream_utc' || rightCause === 'stream_arrival') {
        return {
          category: 'unexplained',
          reason: `unexplained: ${DIAGNOSIS[rightCause]} — ${this.entity(changed.length)} (${list(events)}) move(s); the events predict the stream ${this.show(views.stream!.row)}, it holds ${this.show(row.right)} (${tail})`,
          events: unique(events),
          also: [],
          checked,
          moved: changed,
        };
      }
      steps.push({ category: rightCause, events, sources: changed, effect: this.effect(views.stream!.row, views[rightView]!.row), why: 'delivered more than once and counted again: the stream does not deduplicate by event id' });
    }
    const categories = order(unique(steps.map((step) => step.category)));
    if (categories.length === 0) {
      if (rounding) return { category: 'rounding', reason: `only numbers differ, by at most 0.01, where the events predict the same for both sides (${this.show(views.batch!.row)}); ${tail}`, events: [], also: [], checked };
      return { category: 'unexplained', reason: `unexplained: the events predict the same for both sides (${this.show(views.batch!.row)}), yet they differ; suspect a bug (${tail})`, events: [], also: [], checked };
    }
    const describe = (category: DifferenceCategory) => {
      const mine = steps.filter((step) => step.category === category);
      const events = unique(mine.flatMap((step) => step.events));
      const sources = unique(mine.flatMap((step) => step.sources));
      return `${mine[0]!.why ?? REASONS[category] ?? category}: ${this.entity(sources.length)} (${list(events)})${mine[0]!.effect ? ` → ${mine.map((step) => step.effect).join('; ')}` : ''}`;
    };
    const [primary, ...others] = categories;
    const also = [...others, ...(rounding ? (['rounding'] as const) : [])];
    const sum = categories.length > 1 ? ', which add up to' : ', which accounts for';
    return {
      category: primary!,
      reason: `${categories.map(describe).join('; ')}${sum} the difference: the events predict the batch ${this.show(views[leftView]!.row)} and the stream ${this.show(views[rightView]!.row)}, as observed${rounding ? ' (within 0.01)' : ''}; ${tail}`,
      events: unique(steps.flatMap((step) => step.events)),
      also,
      checked,
      uses: unique(steps.flatMap((step) => step.sources)),
    };
  }

  private unexplained(row: DiffRow, views: Partial<Record<ViewName, KeyView>>, { checked, tail }: Judged): RowResult {
    const steps = this.steps(views, 'batch');
    const predicted = steps.map((step) => `${step.category} ${this.entity(step.sources.length)} (${list(step.events)})${step.effect ? ` → ${step.effect}` : ''}`);
    const observed = this.effect(row.left, row.right);
    const what = predicted.length > 0 ? `they predict ${predicted.join('; ')}` : 'they predict no difference between the two sides';
    return {
      category: 'unexplained',
      reason: `unexplained: the input events do not account for the difference — ${what} (the batch ${this.show(views.batch!.row)}, the stream ${this.show(views.stream!.row)}), but the batch holds ${this.show(row.left)} and the stream ${this.show(row.right)}${observed ? `: left − right is ${observed}` : ''}; suspect a bug (${tail})`,
      events: [],
      also: [],
      checked,
    };
  }

  /**
   * The pipeline itself dates source rows of this key against the contract: neither side's prediction
   * can be trusted (the batch's is the same pipeline run as the batch would run it), and the cause is
   * known — the streaming job, whatever the batch holds. Named after the calendar the dates fit.
   */
  private misdated(row: DiffRow, views: Partial<Record<ViewName, KeyView>>, misdated: Misdated[], { checked, tail }: Judged): RowResult {
    const { dayColumn, eventTimeField } = this.options;
    const zone = this.predictor.domain.timeZone;
    const rows = misdated.map((m) => `${m.pin ?? m.source} (${eventTimeField ?? 'event time'} ${m.instant}: ${zone} day ${m.day}, put on ${m.putOn.join(', ')})`);
    const fits = (day: 'utc' | 'arrival') => misdated.every((m) => m.putOn.every((date) => date === m[day]));
    const each = misdated.length === 1 ? 'it is' : 'each is';
    const cause = fits('utc')
      ? `${each} put on its UTC date: the streaming job is cutting the business day at UTC midnight, not at midnight in ${zone} as the contract says — a bug in the streaming job, not the documented day-boundary difference`
      : fits('arrival')
        ? `${each} put on the day it arrived: the streaming job windows by arrival (processing) time, not by event time as the contract says — a bug in the streaming job`
        : `the contract dates each row by the ${zone} day of its ${eventTimeField ?? 'event time'} — a bug in the streaming job`;
    return {
      category: 'unexplained',
      reason: `unexplained: the streaming pipeline puts ${this.entity(misdated.length)} on another ${dayColumn} than the contract's: ${list(rows)}; ${cause} (the batch holds ${this.show(row.left)}, the stream ${this.show(row.right)}; the events predict the stream ${this.show(views.stream!.row)}; ${tail})`,
      events: unique(misdated.map((m) => m.pin ?? m.source)),
      also: [],
      checked,
      moved: misdated.map((m) => m.source),
    };
  }

  /** A source row that a diagnosed stream bug moves explains no other row. */
  taint(results: Map<number, RowResult>): void {
    const moved = new Set([...results.values()].flatMap((result) => result.moved ?? []));
    if (moved.size === 0) return;
    for (const [id, result] of results) {
      if (result.category === 'unexplained' || !result.uses?.some((source) => moved.has(source))) continue;
      const tainted = result.uses.filter((source) => moved.has(source)).map((source) => this.predictor.pinOf(source) ?? source);
      results.set(id, { ...result, category: 'unexplained', also: [], reason: `unexplained: ${result.reason.split(': the events predict')[0]} would account for it, but ${tainted.join(', ')} also land(s) elsewhere in a way only a bug in the streaming job explains (see the rows diagnosed with it)` });
    }
  }

  private sameView(a: KeyView, b: KeyView): boolean {
    return compareRow(this.values, a.row, b.row, this.produced) === 'equal' && compareRow(this.values, b.row, a.row, this.produced) === 'equal';
  }

  /** The change from `a` (batch side) to `b` (stream side), column by column, as a − b. */
  private effect(a: OutputRow | null, b: OutputRow | null): string {
    if (a === null && b === null) return '';
    if (a === null || b === null) return a === null ? 'the row is only on the stream side' : 'the row is only on the batch side';
    const parts: string[] = [];
    for (const column of this.values) {
      if (!this.produced.has(column.name)) continue;
      const [x, y] = [a[column.name] ?? null, b[column.name] ?? null];
      if (compareValue(column, x, y) === 'equal') continue;
      if (this.numeric.includes(column) && x !== null && y !== null) {
        const delta = Number(x) - Number(y);
        const digits = String(x).split('.')[1]?.length ?? String(y).split('.')[1]?.length ?? 0;
        parts.push(`${column.name} ${delta > 0 ? '+' : '−'}${Math.abs(delta).toFixed(digits)}`);
      } else parts.push(`${column.name} ${show(x)} vs ${show(y)}`);
    }
    return parts.join(', ');
  }

  private show(row: OutputRow | null): string {
    if (row === null) return 'no row';
    return this.values.filter((column) => this.produced.has(column.name)).map((column) => `${column.name} ${show(row[column.name] ?? null)}`).join(', ');
  }

  private entity(count: number): string {
    return `${count} ${this.predictor.entityName} row${count === 1 ? '' : 's'}`;
  }
}

function changedSources(a: KeyView, b: KeyView): string[] {
  const keys = new Set([...a.sources.keys(), ...b.sources.keys()]);
  return [...keys].filter((key) => a.sources.get(key) !== b.sources.get(key)).sort();
}

const show = (value: OutputValue | undefined): string => (value === null || value === undefined ? '∅' : String(value));
const unique = <T>(items: T[]): T[] => [...new Set(items)];
const order = (categories: DifferenceCategory[]): DifferenceCategory[] => PRECEDENCE.filter((category) => categories.includes(category));
const list = (events: string[]): string => {
  const distinct = unique(events);
  return `${distinct.slice(0, 5).join(', ')}${distinct.length > 5 ? ', …' : ''}`;
};

/** The timelines of explained rows: their proving events' deliveries, and the cut-off and window of their source rows. */
class Timelines {
  private readonly deliveries = new Map<string, Timeline['events']>();

  constructor(
    events: readonly Delivery[],
    private readonly predictor: Predictor,
  ) {
    for (const { event, arrivalTime, redelivery } of events) {
      let list = this.deliveries.get(event.eventId);
      if (!list) this.deliveries.set(event.eventId, (list = []));
      const entity = predictor.domain.eventType(event.type)?.entity.name ?? '';
      list.push({ id: event.eventId, type: event.type, entity, eventTime: event.eventTime, arrivalTime, redelivery: redelivery === true });
    }
  }

  of(result: RowResult): Timeline {
    const events = result.events.slice(0, MAX_EVENTS).flatMap((id) => this.deliveries.get(id) ?? []);
    events.sort((a, b) => a.arrivalTime.localeCompare(b.arrivalTime));
    const source = (result.uses ?? result.moved ?? [])[0];
    const time = source === undefined ? undefined : this.predictor.timeOf(source);
    const window = time?.window;
    return {
      events,
      ...(time?.cutoff ? { cutoff: time.cutoff } : {}),
      ...(window ? { window: { id: window.id, end: window.end, graceEnd: window.graceEnd, ...(window.closedAt ? { closedAt: window.closedAt } : {}) } } : {}),
    };
  }
}
