/**
 * Explainers: each differing row is classified into one of the categories of DESIGN.md section 4
 * (src/differences.ts), or "unexplained", with the input event ids that prove it. Set-based SQL over
 * the differing-rows table and the loaded `events`: first the orders a row depends on (by its key —
 * order_id, customer_id, business_date with region or product_id), then one evidence query per
 * category, then per row the first category with evidence, in an order that puts the most specific
 * cause first.
 */
import type { DifferenceCategory } from '../src/differences.ts';
import { cutoffFor, dayBounds } from '../src/domain/time.ts';
import { literal, type Duck } from './duck.ts';
import { TextTableWriter } from './load.ts';
import { keyOrder, rowToSample, type DiffOutcome } from './diff.ts';
import type { ExplainedDifference } from './types.ts';

export interface ExplainOptions {
  /** Whether table `events` holds the run's input events. */
  haveEvents: boolean;
  timeZone: string;
  /** Daily windows in the stream: an order event processed once the stream time (largest order event time
   * processed) reached its day's end plus grace is dropped for that window. */
  windowed: boolean;
  graceMs: number;
  /** Dated batch output: business date D is computed once, at D's cut-off, and kept. */
  dated: boolean;
  /** Local time of the nightly cut-off on the day after D (default "02:00"). */
  cutoffTime: string;
  /** The last run's cut-off / watermark: what an output swapped by every run last saw. */
  watermark: Date | undefined;
  limit: number;
}

interface Evidence {
  id: number;
  category: DifferenceCategory;
  event_id: string;
}

const MAX_EVENTS = 20;
const JOIN_COLUMNS = new Set(['region', 'tier', 'category']);

/** SQL selecting (id, order_id) for every differing row and the orders its key depends on; null when the key names none. */
function candidateOrdersSql(outcome: DiffOutcome, diff: string): string | null {
  const k = (name: string) => {
    const i = outcome.plan.key.findIndex((column) => column.name === name);
    return i < 0 ? undefined : `d.k${i}`;
  };
  const conditions: string[] = [];
  let sameDay = 'true';
  const order = k('order_id');
  const customer = k('customer_id');
  const date = k('business_date');
  if (order) conditions.push(`o.order_id = ${order}`);
  else if (customer) conditions.push(`o.customer_id = ${customer}`);
  else if (date) {
    // Either calendar: a day-boundary difference puts the order on the neighbouring day.
    conditions.push(`(o.local_date = TRY_CAST(${date} AS DATE) OR o.utc_date = TRY_CAST(${date} AS DATE))`);
    sameDay = `o.local_date = TRY_CAST(${date} AS DATE)`;
    const region = k('region');
    const product = k('product_id');
    // The region an order counted in on either side: any its customer had, or "unknown" once the customer is gone.
    if (region) {
      conditions.push(`(EXISTS (SELECT 1 FROM events c WHERE c.type = 'CustomerUpserted' AND c.customer_id = o.customer_id AND c.region = ${region})
        OR (${region} = 'unknown' AND (o.customer_deleted OR NOT EXISTS (SELECT 1 FROM events c WHERE c.type = 'CustomerUpserted' AND c.customer_id = o.customer_id))))`);
    }
    if (product) conditions.push(`o.product_ids LIKE '%,' || ${product} || ',%'`);
  } else return null;
  return `SELECT DISTINCT d.id, o.order_id, ${sameDay} AS same_day FROM ${diff} d JOIN order_facts o ON ${conditions.join(' AND ')}`;
}

export async function explain(duck: Duck, outcome: DiffOutcome, options: ExplainOptions, prefix: string): Promise<{ explained: Partial<Record<DifferenceCategory, number>>; differences: ExplainedDifference[] }> {
  const diff = `${prefix}_diff`;
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${diff} AS SELECT row_number() OVER (ORDER BY ${keyOrder(outcome.plan)}) AS id, * FROM ${outcome.rowsTable}`);
  const evidence = options.haveEvents ? await gatherEvidence(duck, outcome, options, diff, prefix) : [];
  const byRow = new Map<number, Map<DifferenceCategory, Set<string>>>();
  for (const item of evidence) {
    const categories = byRow.get(item.id) ?? new Map<DifferenceCategory, Set<string>>();
    const events = categories.get(item.category) ?? new Set<string>();
    if (item.event_id !== '') events.add(item.event_id);
    categories.set(item.category, events);
    byRow.set(item.id, categories);
  }
  const explained: Partial<Record<DifferenceCategory, number>> = {};
  const differences: ExplainedDifference[] = [];
  // Rows are read in pages so a large difference set never sits in memory at once.
  // Only what the classification reads: key, category and which columns differ (not the values).
  const wanted = ['id', 'cat', 'has_l', 'has_r', ...outcome.plan.key.map((_, i) => `k${i}`), ...outcome.plan.values.map((_, i) => `s${i}`)].join(', ');
  const page = 10_000;
  for (let offset = 0; ; offset += page) {
    const rows = await duck.rows<Record<string, unknown>>(`SELECT ${wanted} FROM ${diff} WHERE id > ${offset} AND id <= ${offset + page} ORDER BY id`);
    for (const row of rows) {
      const sample = rowToSample(row, outcome.plan);
      const found = byRow.get(Number(row.id)) ?? new Map<DifferenceCategory, Set<string>>();
      const { category, reason } = choose(sample.category, sample.columns, found);
      explained[category] = (explained[category] ?? 0) + 1;
      if (differences.length < options.limit) {
        differences.push({ key: sample.key, category: sample.category, columns: sample.columns, explanation: category, events: [...(found.get(category) ?? [])].sort().slice(0, MAX_EVENTS), reason });
      }
    }
    if (rows.length < page) break;
  }
  return { explained, differences };
}

const REASONS: Record<DifferenceCategory, string> = {
  duplicate_delivery: 'an input event of this row was delivered more than once',
  late_arrival: 'an input event of this row arrived after its window closed (plus grace) or after the cut-off',
  update_delete_semantics: 'an order of this row was cancelled, changed or deleted in place',
  join_as_of_event_time: "the customer changed after the order was processed and before the batch cut-off",
  day_boundary: 'an order of this row falls on a different day in the business time zone than in UTC',
  rounding: 'only numbers differ, by a rounding-sized amount',
  intermediate_update: 'one side holds an intermediate value',
  processing_time: 'windowed by processing time',
  start_position: 'a consumer started at the latest offset',
  unexplained: 'no known semantic difference explains it: suspect a bug',
};

function choose(category: string, columns: string[], found: Map<DifferenceCategory, Set<string>>): { category: DifferenceCategory; reason: string } {
  if (category === 'withinTolerance') return { category: 'rounding', reason: 'equal within the declared tolerance' };
  const joinFirst = columns.some((column) => JOIN_COLUMNS.has(column));
  const order: DifferenceCategory[] = joinFirst
    ? ['join_as_of_event_time', 'update_delete_semantics', 'late_arrival', 'duplicate_delivery', 'day_boundary', 'rounding']
    : ['late_arrival', 'update_delete_semantics', 'join_as_of_event_time', 'duplicate_delivery', 'day_boundary', 'rounding'];
  for (const candidate of order) if (found.has(candidate)) return { category: candidate, reason: REASONS[candidate] };
  return { category: 'unexplained', reason: REASONS.unexplained };
}

async function gatherEvidence(duck: Duck, outcome: DiffOutcome, options: ExplainOptions, diff: string, prefix: string): Promise<Evidence[]> {
  const tz = literal(options.timeZone);
  await duck.run(`CREATE OR REPLACE TEMP TABLE order_facts AS
    SELECT o.*, EXISTS (SELECT 1 FROM events c WHERE c.type = 'CustomerDeleted' AND c.customer_id = o.customer_id) AS customer_deleted FROM (
      SELECT order_id, any_value(customer_id) FILTER (WHERE type = 'OrderPlaced') AS customer_id,
             min(placed_at) AS placed_at, min(arrival_time) FILTER (WHERE type = 'OrderPlaced') AS placed_arrival,
             any_value(event_id) FILTER (WHERE type = 'OrderPlaced') AS placed_event,
             CAST(timezone(${tz}, min(placed_at)) AS DATE) AS local_date, CAST(min(placed_at) AS DATE) AS utc_date,
             any_value(product_ids) FILTER (WHERE product_ids IS NOT NULL) AS product_ids
        FROM events WHERE order_id IS NOT NULL GROUP BY order_id) o`);
  await loadDayFacts(duck, options);
  const candidates = candidateOrdersSql(outcome, diff);
  if (!candidates) return roundingEvidence(duck, outcome, diff);
  const cand = `${prefix}_cand`;
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${cand} AS SELECT x.*, o.customer_id, o.placed_arrival, o.placed_event, o.local_date, o.utc_date, f.day_end, f.cutoff
    FROM (${candidates}) x JOIN order_facts o USING (order_id) LEFT JOIN day_facts f ON f.local_date = o.local_date`);
  // What the batch saw for the row: a dated output froze at its date's cut-off; others at the last run's.
  const watermark = options.watermark ? `CAST(${literal(options.watermark.toISOString())} AS TIMESTAMPTZ)` : 'NULL';
  const batchCutoff = options.dated ? 'c.cutoff' : watermark;
  const seenByBatch = (column: string) => `(${batchCutoff} IS NULL OR ${column} <= ${batchCutoff})`;
  const grace = `INTERVAL ${Math.round(options.graceMs)} MILLISECOND`;
  // Stream time when an order event was processed: the largest order event time processed before it.
  await duck.run(`CREATE OR REPLACE TEMP TABLE order_events AS SELECT *, max(event_time) OVER (ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS stream_time
    FROM events WHERE type IN ('OrderPlaced', 'OrderStatusChanged', 'OrderDeleted')`);
  const late = options.windowed
    ? // Dropped by the stream's closed window, yet in time for the batch.
      `SELECT c.id, e.event_id FROM ${cand} c JOIN order_events e ON e.order_id = c.order_id
        WHERE c.same_day AND NOT e.redelivery AND (e.type <> 'OrderStatusChanged' OR e.status = 'cancelled')
          AND e.stream_time >= c.day_end + ${grace} AND ${seenByBatch('e.arrival_time')}`
    : // Missed by the batch (arrived after its cut-off), kept by the un-windowed stream.
      `SELECT c.id, e.event_id FROM ${cand} c JOIN order_events e ON e.order_id = c.order_id AND e.type = 'OrderPlaced'
        WHERE c.same_day AND NOT e.redelivery AND NOT ${seenByBatch('e.arrival_time')}`;
  const queries: [DifferenceCategory, string][] = [
    ['late_arrival', late],
    [
      'update_delete_semantics',
      // A dated batch row froze before a later delete or change of its order; a customer deleted after the order
      // was processed and before the batch ran leaves the batch's join empty.
      `SELECT c.id, e.event_id FROM ${cand} c JOIN order_events e ON e.order_id = c.order_id
        WHERE c.same_day AND e.type IN ('OrderDeleted', 'OrderStatusChanged') AND ${options.dated ? `NOT ${seenByBatch('e.arrival_time')}` : 'true'}
       UNION ALL SELECT c.id, x.event_id FROM ${cand} c JOIN events e ON e.customer_id = c.customer_id AND e.type = 'CustomerDeleted'
        CROSS JOIN LATERAL (SELECT c.placed_event AS event_id UNION ALL SELECT e.event_id) x
        WHERE c.same_day AND e.arrival_time > c.placed_arrival AND ${seenByBatch('e.arrival_time')}`,
    ],
    [
      'join_as_of_event_time',
      // The customer's region or tier changed after the order was processed and before the batch joined it.
      `SELECT c.id, x.event_id FROM ${cand} c JOIN events e ON e.customer_id = c.customer_id AND e.type = 'CustomerUpserted'
        CROSS JOIN LATERAL (SELECT c.placed_event AS event_id UNION ALL SELECT e.event_id) x
        WHERE c.same_day AND e.arrival_time > c.placed_arrival AND ${seenByBatch('e.arrival_time')}
          AND EXISTS (SELECT 1 FROM events p WHERE p.customer_id = e.customer_id AND p.type = 'CustomerUpserted' AND p.seq < e.seq AND (p.region IS DISTINCT FROM e.region OR p.tier IS DISTINCT FROM e.tier))`,
    ],
    ['duplicate_delivery', `SELECT c.id, e.event_id FROM ${cand} c JOIN events e ON e.order_id = c.order_id WHERE c.same_day AND e.redelivery`],
    [
      'day_boundary',
      `SELECT c.id, c.placed_event AS event_id FROM ${cand} c
        WHERE c.local_date <> c.utc_date OR c.day_end - timezone(${tz}, CAST(c.local_date AS TIMESTAMP)) <> INTERVAL 24 HOUR`,
    ],
  ];
  const evidence: Evidence[] = [];
  for (const [category, sql] of queries) {
    const rows = await duck.rows<{ id: number | string; event_id: string }>(sql);
    for (const row of rows) evidence.push({ id: Number(row.id), category, event_id: row.event_id });
  }
  evidence.push(...(await roundingEvidence(duck, outcome, diff)));
  return evidence;
}

/** Per local date of an order: the end of that business day and the nightly cut-off after it (DST-aware, in JS). */
async function loadDayFacts(duck: Duck, options: ExplainOptions): Promise<void> {
  const dates = (await duck.rows<{ d: string }>(`SELECT DISTINCT CAST(local_date AS VARCHAR) AS d FROM order_facts WHERE local_date IS NOT NULL`)).map((row) => row.d);
  const writer = new TextTableWriter(duck, 'day_facts_text', ['local_date', 'day_end', 'cutoff']);
  await writer.open();
  writer.append(dates.map((date) => [date, dayBounds(date, options.timeZone).end.toISOString(), cutoffFor(date, options.cutoffTime, options.timeZone).toISOString()]));
  writer.close();
  await duck.run(`CREATE OR REPLACE TEMP TABLE day_facts AS SELECT CAST(local_date AS DATE) AS local_date, CAST(day_end AS TIMESTAMPTZ) AS day_end, CAST(cutoff AS TIMESTAMPTZ) AS cutoff FROM day_facts_text; DROP TABLE day_facts_text`);
}

/** Rows where only numbers differ and by at most a cent: rounding, proven by the numbers themselves. */
async function roundingEvidence(duck: Duck, outcome: DiffOutcome, diff: string): Promise<Evidence[]> {
  const values = outcome.plan.values;
  const numeric = values.map((column, i) => ({ column, i })).filter(({ column }) => column.kind === 'number');
  if (numeric.length === 0) return [];
  const otherEqual = values.map((column, i) => ({ column, i })).filter(({ column }) => column.kind !== 'number').map(({ i }) => `s${i} = 0`);
  const smallOrEqual = numeric.map(({ i }) => `(s${i} = 0 OR ad${i} <= 0.01)`);
  const rows = await duck.rows<{ id: number | string }>(`SELECT id FROM ${diff} WHERE cat = 'mismatch' AND ${[...otherEqual, ...smallOrEqual].join(' AND ')}`);
  return rows.map((row) => ({ id: Number(row.id), category: 'rounding' as const, event_id: '' }));
}
