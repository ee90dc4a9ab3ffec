/**
 * Explainers: each differing row is classified into one of the categories of DESIGN.md section 4
 * (src/differences.ts), or "unexplained", with the input event ids that prove it — and only when those
 * events account for the difference itself: an aggregate row's left − right must equal the recomputed
 * contribution of the orders the cause touches, a per-order row must hold on each side the values the
 * cause predicts (explain-evidence.ts, over the per-order facts of explain-facts.ts). Evidence that
 * merely touches the row's key explains nothing: a real bug landing on a key with a known semantic
 * difference stays unexplained. The reason text says what was checked and what the events predicted.
 */
import type { DifferenceCategory } from '../src/differences.ts';
import type { Duck } from './duck.ts';
import { keyOrder, rowToSample, type DiffOutcome } from './diff.ts';
import { buildFacts, type KeyRoles } from './explain-facts.ts';
import { aggregateEvidence, mapAggregateColumns, perOrderEvidence, type Predicted } from './explain-evidence.ts';
import { aggregateResult, fallback, perOrderResult, type Context, type RowResult } from './explain-reasons.ts';
import type { ExplainedDifference } from './types.ts';

export interface ExplainOptions {
  /** Whether table `events` holds the run's input events. */
  haveEvents: boolean;
  timeZone: string;
  /** Daily windows in the stream: an order event arriving once its day's window closed (end + grace) is dropped. */
  windowed: boolean;
  graceMs: number;
  /** Dated batch output: business date D is computed once, at D's cut-off, and kept. */
  dated: boolean;
  /** Local time of the nightly cut-off on the day after D (default "02:00"). */
  cutoffTime: string;
  /** The last run's cut-off / watermark: what an output swapped by every run last saw. */
  watermark: Date | undefined;
  /** The output column holding the business date (default "business_date"). */
  dateColumn?: string;
  limit: number;
}

const MAX_EVENTS = 20;

type KeyPlan = { roles: KeyRoles; unknown: string[] };

function keyRoles(outcome: DiffOutcome, dateColumn: string): KeyPlan {
  const roles: KeyRoles = {};
  const unknown: string[] = [];
  outcome.plan.key.forEach((column, i) => {
    const at = `d.k${i}`;
    if (column.name === 'order_id') roles.order = at;
    else if (column.name === 'customer_id') roles.customer = at;
    else if (column.name === dateColumn) roles.date = at;
    else if (column.name === 'region') roles.region = at;
    else if (column.name === 'tier') roles.tier = at;
    else if (column.name === 'product_id') roles.product = at;
    else unknown.push(column.name);
  });
  return { roles, unknown };
}

export async function explain(duck: Duck, outcome: DiffOutcome, options: ExplainOptions, prefix: string): Promise<{ explained: Partial<Record<DifferenceCategory, number>>; differences: ExplainedDifference[] }> {
  const diff = `${prefix}_diff`;
  const { plan } = outcome;
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${diff} AS SELECT row_number() OVER (ORDER BY ${keyOrder(plan)}) AS id, * FROM ${outcome.rowsTable}`);
  const dateColumn = options.dateColumn ?? 'business_date';
  const { roles, unknown } = keyRoles(outcome, dateColumn);
  const { mapped, unchecked } = mapAggregateColumns(plan);
  const mode = !options.haveEvents ? 'none' : unknown.length > 0 || Object.keys(roles).length === 0 ? 'untraceable' : roles.order ? 'order' : mapped.length === 0 ? 'unchecked' : 'aggregate';
  let evidence: string | undefined;
  let predicted: (Predicted | null)[] = [];
  if (mode === 'order' || mode === 'aggregate') {
    const facts = await buildFacts(duck, options, diff, roles, prefix);
    if (mode === 'order') ({ table: evidence, predicted } = await perOrderEvidence(duck, facts, diff, roles, plan, dateColumn, prefix));
    else evidence = await aggregateEvidence(duck, facts, diff, roles, mapped, unchecked.map((column) => ({ i: plan.values.indexOf(column), column })), prefix);
  }
  // As before: without input events only rows within tolerance are called rounding.
  const rounding = options.haveEvents ? await roundingRows(duck, outcome, diff) : new Set<number>();

  const explained: Partial<Record<DifferenceCategory, number>> = {};
  const differences: ExplainedDifference[] = [];
  // Rows are read in pages so a large difference set never sits in memory at once; values only for the
  // rows listed in the report (their reasons quote them).
  const values = plan.values.flatMap((_, i) => [`CASE WHEN d.id <= ${options.limit} THEN d.l${i} END AS l${i}`, `CASE WHEN d.id <= ${options.limit} THEN d.r${i} END AS r${i}`]);
  const wanted = ['d.id', 'd.cat', 'd.has_l', 'd.has_r', ...plan.key.map((_, i) => `d.k${i}`), ...plan.values.map((_, i) => `d.s${i}`), ...values, ...(evidence ? ['x.* EXCLUDE (id)'] : [])].join(', ');
  const page = 10_000;
  for (let offset = 0; ; offset += page) {
    const rows = await duck.rows<Record<string, unknown>>(
      `SELECT ${wanted} FROM ${diff} d ${evidence ? `LEFT JOIN ${evidence} x ON x.id = d.id` : ''} WHERE d.id > ${offset} AND d.id <= ${offset + page} ORDER BY d.id`,
    );
    for (const row of rows) {
      const sample = rowToSample(row, plan);
      const id = Number(row.id);
      const context: Context = { row, mapped, unchecked, values: plan.values, isRounding: rounding.has(id) };
      const result: RowResult =
        sample.category === 'withinTolerance'
          ? { category: 'rounding', reason: 'equal within the declared tolerance', events: [], also: [], checked: [] }
          : mode === 'order'
            ? perOrderResult(context, predicted)
            : mode === 'aggregate'
              ? aggregateResult(context)
              : fallback(context, mode === 'none' ? 'no input events were loaded' : mode === 'untraceable' ? `the key (${unknown.join(', ') || 'none'}) names nothing the input events can be traced by` : `none of its columns (${plan.values.map((c) => c.name).join(', ')}) can be recomputed from the input events`);
      explained[result.category] = (explained[result.category] ?? 0) + 1;
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
        });
      }
    }
    if (rows.length < page) break;
  }
  return { explained, differences };
}

/** Rows where only numbers differ and by at most a cent: rounding, proven by the numbers themselves. */
async function roundingRows(duck: Duck, outcome: DiffOutcome, diff: string): Promise<Set<number>> {
  const values = outcome.plan.values;
  const numeric = values.map((column, i) => ({ column, i })).filter(({ column }) => column.kind === 'number');
  if (numeric.length === 0) return new Set();
  const otherEqual = values.map((column, i) => ({ column, i })).filter(({ column }) => column.kind !== 'number').map(({ i }) => `s${i} = 0`);
  const smallOrEqual = numeric.map(({ i }) => `(s${i} = 0 OR ad${i} <= 0.01)`);
  const rows = await duck.rows<{ id: number | string }>(`SELECT id FROM ${diff} WHERE cat = 'mismatch' AND ${[...otherEqual, ...smallOrEqual].join(' AND ')}`);
  return new Set(rows.map((row) => Number(row.id)));
}
