/**
 * The words of an explanation: from one differing row and its evidence (explain-evidence.ts), the category,
 * the proving events and a reason that says what was checked, what the events predicted and what was
 * observed — for an explanation as for its refusal.
 */
import type { DifferenceCategory } from '../src/differences.ts';
import type { ComparedColumn } from './columns.ts';
import { BITS, DIAGNOSES, type Cause, type MappedColumn, type Predicted } from './explain-evidence.ts';

/** Which cause is named first when several add up to a difference. */
const PRECEDENCE: Cause[] = ['late_arrival', 'update_delete_semantics', 'join_as_of_event_time', 'duplicate_delivery', 'day_boundary', 'processing_time', 'stream_utc_day', 'stream_processing_time'];

const REASONS: Record<Exclude<Cause, 'stream_utc_day' | 'stream_processing_time'>, string> = {
  late_arrival: 'arrived after its window closed (plus grace), or after the batch cut-off',
  update_delete_semantics: 'cancelled, changed or deleted in place after the batch froze, or its customer was deleted by then',
  join_as_of_event_time: 'the customer (or FX rate) changed between the order and the batch run',
  duplicate_delivery: 'delivered more than once and processed again by the stream',
  day_boundary: 'counted by the batch on its UTC day instead of its day in the business time zone',
  processing_time: 'counted by the batch on the day it arrived instead of the day it was placed',
};
const DIAGNOSIS: Record<'stream_utc_day' | 'stream_processing_time', string> = {
  stream_utc_day:
    "it equals exactly what a stream cutting the business day at UTC midnight gives (orders placed between midnight UTC and midnight in the business time zone land on the other day); the contract's day is the business time zone's, so this is a bug in the streaming job, not the documented day-boundary difference",
  stream_processing_time: 'it equals exactly what a stream windowing by arrival (processing) time gives; the contract windows by event time, so this is a bug in the streaming job',
};

export interface RowResult {
  category: DifferenceCategory;
  reason: string;
  events: string[];
  also: DifferenceCategory[];
  checked: string[];
}

export interface Context {
  row: Record<string, unknown>;
  mapped: MappedColumn[];
  unchecked: ComparedColumn[];
  values: ComparedColumn[];
  isRounding: boolean;
}

/** Nothing event-based could be checked: rounding if the numbers say so, else unexplained, saying why. */
export function fallback(context: Context, why: string): RowResult {
  if (context.isRounding) return { category: 'rounding', reason: 'only numbers differ, by at most 0.01', events: [], also: [], checked: [] };
  return { category: 'unexplained', reason: `unexplained: ${why}; suspect a bug`, events: [], also: [], checked: [] };
}

const causesOf = (mask: number): Cause[] => PRECEDENCE.filter((cause) => (mask & BITS[cause]) !== 0);
const isCategory = (cause: Cause): cause is Exclude<Cause, 'stream_utc_day' | 'stream_processing_time'> => (BITS[cause] & DIAGNOSES) === 0;
const signed = (value: number, digits: number) => `${value > 0 ? '+' : value < 0 ? '−' : '±'}${Math.abs(value).toFixed(digits)}`;

interface CauseEffect {
  bit: number;
  orders: number | string;
  n: number | string;
  x: number | string;
  u: number | string;
  r: number | string;
  events: string[];
}

function effectText(effect: CauseEffect, mapped: MappedColumn[]): string {
  const parts = mapped.flatMap(({ column, measure }) => {
    if (measure === 'first' || measure === 'last') return [];
    const value = Number(effect[measure]) / (measure === 'r' ? 100 : 1);
    return value === 0 ? [] : [`${column.name} ${signed(value, measure === 'r' ? 2 : 0)}`];
  });
  return `${effect.orders} order(s) (${effect.events.slice(0, 5).join(', ')}${effect.events.length > 5 ? ', …' : ''})${parts.length > 0 ? ` → ${parts.join(', ')}` : ''}`;
}

function observedText(context: Context): string {
  const { row } = context;
  const parts = context.mapped.map(({ i, column, measure }) => {
    const l = row[`l${i}`] as string | null | undefined;
    const r = row[`r${i}`] as string | null | undefined;
    if (measure === 'first' || measure === 'last') return `${column.name} ${l ?? '∅'} vs ${r ?? '∅'}`;
    return `${column.name} ${signed(Number(l ?? 0) - Number(r ?? 0), measure === 'r' ? 2 : 0)}`;
  });
  return parts.join(', ');
}

export function aggregateResult(context: Context): RowResult {
  const { row, mapped, unchecked } = context;
  const checked = mapped.map(({ column }) => column.name);
  const assumed = mapped.filter((m) => m.assumed).map(({ column }) => column.name);
  const notChecked = unchecked.filter((column) => Number(row[`s${context.values.indexOf(column)}`]) > 0).map((column) => column.name);
  const notes = [
    ...(assumed.length > 0 ? [`assumed ${assumed.join(', ')} count(s) the row's orders`] : []),
    ...(notChecked.length > 0 ? [`not checked (no rule derives them from the events): ${notChecked.join(', ')}`] : []),
  ];
  const tail = `checked: ${checked.join(', ')}${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`;
  const cats = (row.cats as CauseEffect[] | null | undefined) ?? [];
  const observed = observedText(context);
  const mask = row.mask === null || row.mask === undefined ? null : Number(row.mask);
  if (mask !== null) {
    const used = cats.filter((effect) => (mask & Number(effect.bit)) !== 0);
    const causes = causesOf(mask);
    const diagnosis = causes.find((cause) => !isCategory(cause));
    const events = [...new Set(used.flatMap((effect) => effect.events))].sort();
    const describe = (cause: Cause) => {
      const effect = used.find((e) => Number(e.bit) === BITS[cause])!;
      return `${isCategory(cause) ? REASONS[cause] : cause.replaceAll('_', ' ')}: ${effectText(effect, mapped)}`;
    };
    if (diagnosis === 'stream_utc_day' || diagnosis === 'stream_processing_time') {
      return { category: 'unexplained', reason: `unexplained: ${DIAGNOSIS[diagnosis]} — ${causes.map(describe).join('; ')}${observed ? `; observed left − right ${observed}` : ''} (${tail})`, events, also: [], checked };
    }
    const tainted = (row.tainted as string[] | null | undefined) ?? [];
    if (tainted.length > 0) {
      return {
        category: 'unexplained',
        reason: `unexplained: ${causes.map(describe).join('; ')} would account for it, but ${tainted.join(', ')} also land(s) elsewhere in a way only a bug in the streaming job explains (see the rows diagnosed with it)${observed ? `; observed left − right ${observed}` : ''} (${tail})`,
        events,
        also: [],
        checked,
      };
    }
    const categories = causes.filter(isCategory);
    const [primary, ...also] = categories;
    const sum = categories.length > 1 ? ', which add up to' : ', which accounts for';
    return {
      category: primary!,
      reason: `${categories.map(describe).join('; ')}${sum} the difference${observed ? ` (observed left − right ${observed})` : ''}; ${tail}`,
      events,
      also,
      checked,
    };
  }
  if (context.isRounding) return { category: 'rounding', reason: `only numbers differ, by at most 0.01; ${tail}`, events: [], also: [], checked };
  if (cats.length === 0) {
    return { category: 'unexplained', reason: `unexplained: no input event makes the batch and the stream count this row's orders differently${observed ? ` (observed left − right ${observed})` : ''}; suspect a bug (${tail})`, events: [], also: [], checked };
  }
  const predicted = cats.map((effect) => {
    const cause = causesOf(Number(effect.bit))[0]!;
    return `${cause} ${effectText(effect, mapped)}`;
  });
  return {
    category: 'unexplained',
    reason: `unexplained: the input events do not account for the difference — they predict ${predicted.join('; ')} (alone or together), but left − right is ${observed || 'different'}; suspect a bug (${tail})`,
    events: [],
    also: [],
    checked,
  };
}

const PRESENCE = (has: boolean) => (has ? 'has it' : 'lacks it');

export function perOrderResult(context: Context, predicted: (Predicted | null)[]): RowResult {
  const { row, values } = context;
  const paired = Boolean(row.has_l) && Boolean(row.has_r);
  const differing = paired ? values.map((column, i) => ({ column, i })).filter(({ i }) => Number(row[`s${i}`]) > 0) : [];
  const checked = paired ? differing.map(({ column }) => column.name) : ['presence', ...values.filter((_, i) => predicted[i]).map((column) => column.name)];
  if (!row.known) return fallback(context, `no OrderPlaced event for this order among the input events`);
  if (!row.presence_ok) {
    return fallback(
      context,
      `the input events say the batch ${PRESENCE(Boolean(row.l_exists))} and the stream ${PRESENCE(Boolean(row.r_exists))}, but the batch ${PRESENCE(Boolean(row.has_l))} and the stream ${PRESENCE(Boolean(row.has_r))}`,
    );
  }
  let mask = Number(row.presence_bit ?? 0);
  const events = new Set<string>();
  const add = (list: unknown) => {
    for (const event of (list as string[] | null) ?? []) events.add(event);
  };
  if (mask !== 0) add(row.pres_events);
  const failures: string[] = [];
  const statements: string[] = paired ? [] : [`the batch ${PRESENCE(Boolean(row.has_l))} and the stream ${PRESENCE(Boolean(row.has_r))}`];
  for (const { column, i } of differing) {
    const bit = Number(row[`c${i}`] ?? 0);
    const sides = `${String(row[`l${i}`] ?? '∅')} vs ${String(row[`r${i}`] ?? '∅')}`;
    if (bit <= 0) {
      failures.push(predicted[i] ? `${column.name} is ${sides}, which no cause in the input events predicts` : `${column.name} (${sides}) cannot be derived from the input events`);
      continue;
    }
    mask |= bit;
    statements.push(`${column.name} ${sides}`);
    const kind = predicted[i];
    if (kind === 'region' || kind === 'tier') add(row[`${kind}_events`]);
    else if (kind === 'status') add(bit === BITS.duplicate_delivery ? row.status_dup_events : row.status_events);
    else if (kind === 'eur') add(row.fx_events);
    else add(row.placed_events);
  }
  if (!paired) {
    // Nothing to compare with, but the values the events predict for the side that has the row must be there.
    const side = row.has_l ? 'l' : 'r';
    const name = row.has_l ? 'batch' : 'stream';
    values.forEach((column, i) => {
      if (Number(row[`c${i}`] ?? 0) < 0) failures.push(`the ${name}'s ${column.name} is ${String(row[`${side}${i}`] ?? '∅')}, not the ${expectedText(predicted[i]!, row, side)} the input events give`);
    });
  }
  if (failures.length > 0) return fallback(context, failures.join('; '));
  const causes = causesOf(mask);
  const diagnosis = causes.find((cause) => !isCategory(cause));
  const sorted = [...events].sort();
  const what = `${statements.join(', ')} (batch vs stream), exactly as the input events predict`;
  if (diagnosis === 'stream_utc_day' || diagnosis === 'stream_processing_time') {
    return { category: 'unexplained', reason: `unexplained: ${DIAGNOSIS[diagnosis]}: ${what}`, events: sorted, also: [], checked };
  }
  const categories = causes.filter(isCategory);
  if (categories.length === 0) return fallback(context, 'nothing in the input events makes the two sides differ');
  const [primary, ...also] = categories;
  return { category: primary!, reason: `${categories.map((cause) => REASONS[cause as keyof typeof REASONS]).join('; ')} (${sorted.join(', ')}): ${what}`, events: sorted, also, checked };
}

function expectedText(kind: Predicted, row: Record<string, unknown>, side: 'l' | 'r'): string {
  const value = kind === 'date' ? row.local_date : kind === 'eur' ? (row[`${side}_eur`] === null ? null : (Number(row[`${side}_eur`]) / 100).toFixed(2)) : row[`${side}_${kind}`];
  return String(value ?? '∅');
}
