/**
 * Quantitative evidence: whether the causes found in the input events account for the *size* of each
 * difference, not merely touch its key. Set-based SQL over the differing rows (`<prefix>_diff`) and the
 * per-order facts of explain-facts.ts; one result row per differing row in `<prefix>_xr`.
 *
 * Aggregate rows (keyed by business date, region, tier, product, customer): every order the two sides
 * treat differently becomes effects — its contribution where the batch counts it (+) and where the stream
 * does (−) — filed under the category that makes them differ. Hypotheses add effects of their own: a
 * stream counting redelivered OrderPlaced again (duplicate_delivery), a batch cutting days at UTC midnight
 * (day_boundary) or by arrival time (processing_time), and the same two mistakes in the stream, which are
 * diagnoses of a bug, never explanations. For each subset of a row's categories the effects are summed,
 * and the subset is accepted when left − right of every checked column equals that sum (within the
 * column's tolerance). Per-order rows (keyed by order_id): each side's presence must be what the events
 * say, and each differing column must hold on both sides the values a cause predicts.
 */
import type { ColumnPlan, ComparedColumn } from './columns.ts';
import type { Duck } from './duck.ts';
import type { FactTables, KeyRoles } from './explain-facts.ts';

/** Category bits; the last two are diagnoses (a bug in the stream), never explanations. */
export const BITS = {
  late_arrival: 1,
  update_delete_semantics: 2,
  join_as_of_event_time: 4,
  duplicate_delivery: 8,
  day_boundary: 16,
  processing_time: 32,
  stream_utc_day: 64,
  stream_processing_time: 128,
} as const;
export type Cause = keyof typeof BITS;
export const DIAGNOSES = BITS.stream_utc_day | BITS.stream_processing_time;
const CAT_BIT = `CASE $ WHEN 'late' THEN ${BITS.late_arrival} WHEN 'upd' THEN ${BITS.update_delete_semantics} WHEN 'join' THEN ${BITS.join_as_of_event_time} END`;
const bitOf = (cat: string) => CAT_BIT.replace('$', cat);

/** What an aggregate column sums (n: orders counted, x: cancelled orders, u: units, r: EUR cents) or which extreme it keeps. */
export type Measure = 'n' | 'x' | 'u' | 'r' | 'first' | 'last';
export interface MappedColumn {
  i: number;
  column: ComparedColumn;
  measure: Measure;
  /** Recognised only as "a count": assumed to count the row's orders (a user transformation's column). */
  assumed: boolean;
}

const KNOWN: Record<string, Measure> = { order_count: 'n', cancelled_count: 'x', units: 'u', revenue_eur: 'r', first_order_at: 'first', last_order_at: 'last' };
const COUNT_LIKE = /(^|_)(count|cnt)$|^(n|num)_orders$|^orders$/i;

/** The value columns of an aggregate the events can recompute: by name, or a count-like column assumed to count orders. */
export function mapAggregateColumns(plan: ColumnPlan): { mapped: MappedColumn[]; unchecked: ComparedColumn[] } {
  const mapped: MappedColumn[] = [];
  const unchecked: ComparedColumn[] = [];
  plan.values.forEach((column, i) => {
    const known = KNOWN[column.name];
    const fits = known && ((known === 'first' || known === 'last') === (column.kind === 'timestamp')) && (column.kind === 'number' || column.kind === 'timestamp');
    if (known && fits) mapped.push({ i, column, measure: known, assumed: false });
    else if (column.kind === 'number' && COUNT_LIKE.test(column.name)) mapped.push({ i, column, measure: 'n', assumed: true });
    else unchecked.push(column);
  });
  return { mapped, unchecked };
}

const num = (text: string) => `TRY_CAST(${text} AS DECIMAL(38, 9))`;
const TRUNC: Record<string, string> = { ms: 'millisecond', s: 'second', min: 'minute' };
const instant = (text: string, column: ComparedColumn) => `date_trunc('${TRUNC[column.rule.precision ?? 'ms']}', TRY_CAST(${text} AS TIMESTAMPTZ))`;
/** |a − b| ≤ the column's tolerance (abs, rel × the larger side), scaled like the values compared. */
function within(column: ComparedColumn, delta: string, l: string, r: string, scale: number): string {
  const rel = column.rule.rel ? ` + ${column.rule.rel} * greatest(abs(coalesce(${l}, 0)), abs(coalesce(${r}, 0)))` : '';
  return `abs(${delta}) <= (${column.rule.abs ?? 0}${rel}) * ${scale} + 0.000001`;
}

export async function aggregateEvidence(duck: Duck, facts: FactTables, diff: string, roles: KeyRoles, mapped: MappedColumn[], unchecked: { i: number; column: ComparedColumn }[], prefix: string): Promise<string> {
  const p = `${prefix}_x`;
  const byProduct = roles.product !== undefined;
  const grain = byProduct
    ? `SELECT f.*, g.product_id, g.units AS g_units, g.l_eur AS g_l_eur, g.r_eur AS g_r_eur FROM ${facts.orders} f JOIN ${facts.products} g USING (order_id)`
    : `SELECT f.*, NULL AS product_id, f.units AS g_units, f.l_eur AS g_l_eur, f.r_eur AS g_r_eur FROM ${facts.orders} f`;
  // One side's contribution: counted orders, cancelled orders, units, EUR cents, and the weight of its placed_at.
  // A redelivery counted again leaves the extremes alone (the order is already on that side): its ts weight is 0.
  const side = (s: 'l' | 'r', sign: string, variant = '', again = false) => {
    const [exists, active] = [`${s}_exists${variant}`, `${s}_active${variant}`];
    const counted = `CAST(${exists} AND ${active} AS INTEGER)`;
    return `${sign} * ${counted} AS n, ${sign} * CAST(${exists} AND NOT ${active} AS INTEGER) AS x, ${sign} * ${counted} * g_units AS u,
            ${sign} * ${counted} * coalesce(g_${s}_eur, 0) AS r, ${again ? '0' : `${sign} * ${counted}`} AS tn, placed_at AS ts`;
  };
  const at = (date: string, s: 'l' | 'r') => `${date} AS date, ${s}_region AS region, ${s}_tier AS tier, customer_id, product_id`;
  const attrDiffers = (attr: 'region' | 'tier') => `coalesce(l_${attr}, 'unknown') <> coalesce(r_${attr}, 'unknown')`;
  // Why the two sides treat the order differently: what it is counted as first, then where (customer), then its EUR (rate).
  const baseCat = `CASE WHEN l_exists <> r_exists OR (l_exists AND l_active <> r_active) THEN ${bitOf('act_cat')}
      ${roles.region ? `WHEN ${attrDiffers('region')} THEN ${bitOf('region_cat')}` : ''}
      ${roles.tier ? `WHEN ${attrDiffers('tier')} THEN ${bitOf('tier_cat')}` : ''}
      WHEN g_l_eur IS DISTINCT FROM g_r_eur THEN ${BITS.join_as_of_event_time} END`;
  const baseEvents = `CASE WHEN l_exists <> r_exists OR (l_exists AND l_active <> r_active) THEN act_events
      ${roles.region ? `WHEN ${attrDiffers('region')} THEN region_events` : ''}
      ${roles.tier ? `WHEN ${attrDiffers('tier')} THEN tier_events` : ''}
      ELSE fx_events END`;
  const sources = [
    `SELECT order_id, bit, events, ${at('local_date', 'l')}, ${side('l', '1')} FROM b`,
    `SELECT order_id, bit, events, ${at('local_date', 'r')}, ${side('r', '-1')} FROM b`,
    `SELECT order_id, ${BITS.duplicate_delivery}, dup_events, ${at('local_date', 'r')}, ${side('r', '(-dup_count)', '', true)} FROM g WHERE dup_count > 0`,
  ];
  if (roles.date) {
    // Each hypothesis moves the order from its Stockholm day to another day, on one side; a dated batch run for
    // that other day saw what had arrived by that day's cut-off.
    const move = (bit: number, date: string, s: 'l' | 'r', variant: string) => {
      const sign = s === 'l' ? ['1', '-1'] : ['-1', '1'];
      return [
        `SELECT order_id, ${bit}, [placed_event], ${at(date, s)}, ${side(s, sign[0]!, variant)} FROM g WHERE ${date} <> local_date`,
        `SELECT order_id, ${bit}, [placed_event], ${at('local_date', s)}, ${side(s, sign[1]!)} FROM g WHERE ${date} <> local_date`,
      ];
    };
    sources.push(...move(BITS.day_boundary, 'utc_date', 'l', '_utc'), ...move(BITS.processing_time, 'arrival_date', 'l', '_arr'));
    // A stream windowing by arrival time drops nothing as late; one cutting days at UTC keeps its windows' drops.
    sources.push(...move(BITS.stream_utc_day, 'utc_date', 'r', ''), ...move(BITS.stream_processing_time, 'arrival_date', 'r', '_all'));
  }
  const match = [
    roles.date ? `TRY_CAST(${roles.date} AS DATE) = s.date` : '',
    roles.region ? `${roles.region} = coalesce(s.region, 'unknown')` : '',
    roles.tier ? `${roles.tier} = coalesce(s.tier, 'unknown')` : '',
    roles.customer ? `${roles.customer} = s.customer_id` : '',
    roles.product ? `${roles.product} = s.product_id` : '',
  ].filter(Boolean);
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${p}eff AS
    WITH g AS (${grain}), b AS (SELECT *, ${baseCat} AS bit, ${baseEvents} AS events FROM g),
    s AS (SELECT * FROM (${sources.map((sql) => `(${sql})`).join(' UNION ALL ')}) WHERE bit IS NOT NULL AND (n <> 0 OR x <> 0 OR u <> 0 OR r <> 0))
    SELECT d.id, s.bit, s.order_id, s.n, s.x, s.u, s.r, s.tn, s.ts, s.events FROM s JOIN ${diff} d ON ${match.join(' AND ')}`);

  // Per category: its summed effect on the row; kept only when it moves a checked column.
  const measures = new Set(mapped.map((m) => m.measure));
  const sums = (['n', 'x', 'u', 'r'] as const).filter((m) => measures.has(m));
  const extremes = measures.has('first') || measures.has('last');
  // An order moves a checked column when it changes a checked sum, or (extremes) which side holds its placed_at.
  const moves = [...sums.map((m) => `${m} <> 0`), ...(extremes ? ['tn <> 0'] : [])].join(' OR ');
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${p}po AS
    SELECT id, bit, order_id, sum(n) AS n, sum(x) AS x, sum(u) AS u, sum(r) AS r, sum(tn) AS tn, any_value(ts) AS ts, list_distinct(flatten(list(events))) AS events
      FROM ${p}eff GROUP BY id, bit, order_id`);
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${p}cat AS
    SELECT id, bit, sum(n) AS n, sum(x) AS x, sum(u) AS u, sum(r) AS r, count(*) FILTER (WHERE ${moves}) AS orders,
           list_sort(list_distinct(flatten(list(events) FILTER (WHERE ${moves})))) AS events
      FROM ${p}po GROUP BY id, bit
    HAVING ${[...sums.map((m) => `sum(${m}) <> 0`), ...(extremes ? ['bool_or(tn <> 0)'] : [])].join(' OR ')}`);

  // Every subset of a row's categories, its summed effect, and whether it equals the observed difference.
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${p}mask AS
    SELECT c.id, CAST(m.m AS INTEGER) AS m FROM (SELECT id, bit_or(bit) AS present FROM ${p}cat GROUP BY id) c, range(1, 256) m(m)
     WHERE m.m <= c.present AND (m.m & ~c.present) = 0`);
  const tsJoin = extremes
    ? `LEFT JOIN (SELECT id, m, min(ts) FILTER (WHERE net > 0) AS mina, max(ts) FILTER (WHERE net > 0) AS maxa, min(ts) FILTER (WHERE net < 0) AS minb, max(ts) FILTER (WHERE net < 0) AS maxb
         FROM (SELECT k.id, k.m, e.order_id, sum(e.tn) AS net, any_value(e.ts) AS ts FROM ${p}mask k JOIN ${p}po e ON e.id = k.id AND (k.m & e.bit) <> 0
                GROUP BY k.id, k.m, e.order_id) GROUP BY id, m) t ON t.id = k.id AND t.m = k.m`
    : '';
  const checks = mapped.map(({ i, column, measure }) => {
    const l = `d.l${i}`;
    const r = `d.r${i}`;
    if (measure === 'first' || measure === 'last') {
      // Each side keeps the extreme of the orders both count (C, unknown) and of its own extra orders (A left, B
      // right): lf = pick(C ∪ A), rf = pick(C ∪ B). Unless a side's value is its own extras' extreme, it is C's,
      // and then the other side's value follows from it.
      const [pick, a, b] = measure === 'first' ? ['least', 't.mina', 't.minb'] : ['greatest', 't.maxa', 't.maxb'];
      const lf = instant(l, column);
      const rf = instant(r, column);
      const ts = (value: string) => `date_trunc('${TRUNC[column.rule.precision ?? 'ms']}', ${value})`;
      return `((${lf} IS NOT DISTINCT FROM ${ts(a)} OR ${rf} IS NOT DISTINCT FROM ${pick}(${lf}, ${ts(b)}))
               AND (${rf} IS NOT DISTINCT FROM ${ts(b)} OR ${lf} IS NOT DISTINCT FROM ${pick}(${rf}, ${ts(a)})))`;
    }
    const scale = measure === 'r' ? 100 : 1;
    return within(column, `(coalesce(${num(l)}, 0) - coalesce(${num(r)}, 0)) * ${scale} - coalesce(s.${measure}, 0)`, num(l), num(r), scale);
  });
  // A differing column no cause can predict, unless it is a number (a user's column: reported as not checked).
  const blocking = unchecked.filter(({ column }) => column.kind !== 'number').map(({ i }) => `d.s${i} = 0`);
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${p}ok AS
    SELECT k.id, k.m, ${[...checks, ...blocking].join(' AND ')} AS ok
      FROM ${p}mask k JOIN ${diff} d ON d.id = k.id
      JOIN (SELECT k.id, k.m, sum(c.n) AS n, sum(c.x) AS x, sum(c.u) AS u, sum(c.r) AS r FROM ${p}mask k JOIN ${p}cat c ON c.id = k.id AND (k.m & c.bit) <> 0 GROUP BY k.id, k.m) s ON s.id = k.id AND s.m = k.m
      ${tsJoin}`);
  // The accepted subset: one without a diagnosis if any, then the one using the most of the evidence.
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${p}ch AS
    SELECT c.id, c.present, o.m AS mask, c.cats FROM
      (SELECT id, bit_or(bit) AS present, list({'bit': bit, 'orders': orders, 'n': n, 'x': x, 'u': u, 'r': r, 'events': events} ORDER BY bit) AS cats FROM ${p}cat GROUP BY id) c
      LEFT JOIN (SELECT id, arg_min(m, CAST((m & ${DIAGNOSES}) <> 0 AS INTEGER) * 100000 - bit_count(m) * 1000 + m) AS m FROM ${p}ok WHERE ok GROUP BY id) o USING (id)`);
  // One order, one story: an order a diagnosed bug moves in some row cannot explain another row by a
  // documented cause (a stream windowing by arrival time also "drops" the order from its event-time day).
  const used = (bits: string) => `SELECT e.id, e.order_id, e.events FROM ${p}po e JOIN ${p}ch c ON c.id = e.id AND (c.mask & e.bit & ${bits}) <> 0 WHERE ${moves}`;
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${p}r AS
    SELECT c.*, t.tainted FROM ${p}ch c LEFT JOIN (
      SELECT u.id, list_sort(list_distinct(flatten(list(u.events)))) AS tainted FROM (${used(`${~DIAGNOSES & 255}`)}) u
       WHERE u.order_id IN (SELECT order_id FROM (${used(String(DIAGNOSES))})) GROUP BY u.id) t USING (id)`);
  return `${p}r`;
}

/** The columns of a per-order output the events predict on each side, by name. */
export type Predicted = 'region' | 'tier' | 'status' | 'eur' | 'date';

export async function perOrderEvidence(duck: Duck, facts: FactTables, diff: string, roles: KeyRoles, plan: ColumnPlan, dateColumn: string, prefix: string): Promise<{ table: string; predicted: (Predicted | null)[] }> {
  const p = `${prefix}_x`;
  const predicted = plan.values.map((column): Predicted | null => {
    if (column.name === 'region' || column.name === 'tier' || column.name === 'status') return column.name;
    if (column.name === 'net_amount_eur' && column.kind === 'number') return 'eur';
    if (column.name === dateColumn) return 'date';
    return null;
  });
  const text = (value: string, expected: string) => `${value} IS NOT DISTINCT FROM ${expected}`;
  const sameCents = (column: ComparedColumn, value: string, cents: string) => `((${num(value)} IS NULL AND ${cents} IS NULL) OR ${within(column, `${num(value)} * 100 - ${cents}`, num(value), num(value), 100)})`;
  const date = (value: string) => `TRY_CAST(${value} AS DATE)`;
  /** Whether one side's value is what the events say that side holds (a row on one side only). */
  const asPredicted = (kind: Predicted, column: ComparedColumn, value: string, s: 'l' | 'r') => {
    switch (kind) {
      case 'region':
      case 'tier':
        return text(value, `f.${s}_${kind}`);
      case 'status':
        return s === 'l' ? text(value, 'f.l_status') : `(${text(value, 'f.r_status')} OR ${text(value, 'f.r_status_dup')})`;
      case 'eur':
        return sameCents(column, value, `f.${s}_eur`);
      case 'date':
        return `${date(value)} = f.local_date`;
    }
  };
  const columns = plan.values.map((column, i) => {
    const l = `d.l${i}`;
    const r = `d.r${i}`;
    const kind = predicted[i] ?? null;
    const alternatives: [string, string | number][] = [];
    switch (kind) {
      case 'region':
      case 'tier':
        alternatives.push([`f.${kind}_cat IS NOT NULL AND ${text(l, `f.l_${kind}`)} AND ${text(r, `f.r_${kind}`)}`, bitOf(`f.${kind}_cat`)]);
        break;
      case 'status':
        alternatives.push([`f.status_cat IS NOT NULL AND ${text(l, 'f.l_status')} AND ${text(r, 'f.r_status')}`, bitOf('f.status_cat')]);
        alternatives.push([`f.r_status_dup <> f.r_status AND ${text(l, 'f.l_status')} AND ${text(r, 'f.r_status_dup')}`, BITS.duplicate_delivery]);
        break;
      case 'eur':
        alternatives.push([`f.l_eur IS DISTINCT FROM f.r_eur AND ${sameCents(column, l, 'f.l_eur')} AND ${sameCents(column, r, 'f.r_eur')}`, BITS.join_as_of_event_time]);
        break;
      case 'date': {
        const pair = (left: string, right: string) => `${date(l)} = f.${left} AND ${date(r)} = f.${right}`;
        alternatives.push([`f.utc_date <> f.local_date AND ${pair('utc_date', 'local_date')}`, BITS.day_boundary]);
        alternatives.push([`f.arrival_date <> f.local_date AND ${pair('arrival_date', 'local_date')}`, BITS.processing_time]);
        alternatives.push([`f.utc_date <> f.local_date AND ${pair('local_date', 'utc_date')}`, BITS.stream_utc_day]);
        alternatives.push([`f.arrival_date <> f.local_date AND ${pair('local_date', 'arrival_date')}`, BITS.stream_processing_time]);
        break;
      }
      case null:
        break;
    }
    // 0: nothing to explain in this column; a bit: the cause whose prediction it matches; -1: none does. A row on
    // one side only has nothing to compare with, but its predictable values must still be what the events say.
    const paired = `CASE WHEN d.s${i} = 0 THEN 0 ${alternatives.map(([when, bit]) => `WHEN ${when} THEN ${bit}`).join(' ')} ELSE -1 END`;
    const alone = (value: string, s: 'l' | 'r') => (kind ? `CASE WHEN ${asPredicted(kind, column, value, s)} THEN 0 ELSE -1 END` : '0');
    return `CASE WHEN d.has_l AND d.has_r THEN ${paired} WHEN d.has_l THEN ${alone(l, 'l')} ELSE ${alone(r, 'r')} END AS c${i}`;
  });
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${p}r AS
    SELECT d.id, f.order_id IS NOT NULL AS known, d.has_l = coalesce(f.l_exists, false) AND d.has_r = coalesce(f.r_exists, false) AS presence_ok,
           coalesce(f.l_exists, false) AS l_exists, coalesce(f.r_exists, false) AS r_exists,
           CASE WHEN d.has_l <> d.has_r THEN coalesce(${bitOf('f.pres_cat')}, 0) ELSE 0 END AS presence_bit,
           f.pres_events, f.region_events, f.tier_events, f.status_events, f.status_dup_events, f.fx_events, [f.placed_event] AS placed_events,
           f.l_region, f.r_region, f.l_tier, f.r_tier, f.l_status, f.r_status, f.l_eur, f.r_eur, f.local_date
           ${columns.length > 0 ? `, ${columns.join(', ')}` : ''}
      FROM ${diff} d LEFT JOIN ${facts.orders} f ON f.order_id = ${roles.order}`);
  return { table: `${p}r`, predicted };
}
