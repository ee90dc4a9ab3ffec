/**
 * What each side should hold for an order, worked out from the loaded input events (table `events`),
 * so the explainers can check that a cause *accounts for* a difference rather than merely exists.
 * Set-based SQL in DuckDB, restricted to the orders a differing row can depend on.
 *
 * For every such order, two views under the documented semantics (DESIGN.md section 4):
 *  - the batch (left) sees the database at its instant B: a dated output froze at its business date's
 *    cut-off, others at the last run's (the watermark; none given: everything). It holds the order if
 *    the OrderPlaced arrived by B and no delete did; the status is the last one arrived by B; the customer
 *    and the FX rate are the rows as they stand at B;
 *  - the stream (right) processes the first delivery of each event in arrival order; with daily windows
 *    an event arriving after its window closed (the earliest arrival of an order event with event time ≥
 *    day end + grace, as streaming/operators/day-window.ts decides) is dropped, and so is everything after
 *    it for that order. Joins (customer, FX rate) are pinned to the OrderPlaced's arrival, as the stream's
 *    versioned tables are.
 * Money is recomputed exactly in integer cents as both sides do (src/domain/money.ts, legacy-sql.ts):
 * line net = round(qty × price × (100 − discount) / 100, 2), EUR = round(amount × rate, 2), half away
 * from zero. For every order it also records why the two views differ, with the proving event ids.
 */
import { cutoffFor, dayBounds } from '../src/domain/time.ts';
import { literal, type Duck } from './duck.ts';
import { TextTableWriter } from './load.ts';

export interface FactOptions {
  timeZone: string;
  windowed: boolean;
  graceMs: number;
  dated: boolean;
  cutoffTime: string;
  watermark: Date | undefined;
}

/** Which key column of the differing-rows table (`k0`…) plays which role; the SQL expression reading it. */
export interface KeyRoles {
  order?: string;
  customer?: string;
  date?: string;
  region?: string;
  tier?: string;
  product?: string;
}

export interface FactTables {
  /** Per order: both views, measures and the proving events (see the column list below). */
  orders: string;
  /** Per order and product: units and EUR cents per view. */
  products: string;
}

const ORDER_EVENTS = "('OrderPlaced', 'OrderStatusChanged', 'OrderDeleted')";
/** a / b rounded half away from zero (b > 0), on HUGEINT, as divRound in src/domain/money.ts. */
const divRound = (a: string, b: string) => `(sign(${a}) * ((abs(${a}) * 2 + ${b}) // (2 * ${b})))`;
const cents = (decimal: string) => `CAST(CAST(${decimal} AS DECIMAL(20, 2)) * 100 AS HUGEINT)`;

/**
 * Builds `<prefix>_xf` (per order the sides treat differently or a day hypothesis moves; every order of a
 * per-order output's differing rows) and `<prefix>_xp` (the same per order and product). Columns of `_xf`:
 * order_id, customer_id, placed_at, placed_event, local_date, utc_date, arrival_date,
 * l_exists, l_active, l_status, l_exists_utc / l_active_utc and l_exists_arr / l_active_arr (a batch run
 * for the order's UTC day or arrival day instead), l_region, l_tier, l_cust_deleted, l_eur (cents, NULL without rate),
 * r_exists, r_active, r_status, r_status_dup, r_exists_all / r_active_all (nothing dropped as late), r_region, r_tier, r_eur, units, net (cents),
 * pres_cat / pres_events (placed or delete seen by one side only), act_cat / act_events (placed,
 * delete or cancellation seen by one side only), status_cat / status_events, status_dup_events,
 * region_cat / region_events, tier_cat / tier_events, fx_events, dup_count / dup_events (redelivered
 * OrderPlaced the stream would process again). A `*_cat` is 'late' (the stream dropped it, or the batch
 * missed an OrderPlaced that arrived after its cut-off), 'upd' (a change or delete after the batch froze;
 * a customer deleted by then) or 'join' (the customer or FX rate changed between the order and B).
 */
export async function buildFacts(duck: Duck, options: FactOptions, diff: string, roles: KeyRoles, prefix: string): Promise<FactTables> {
  const tz = literal(options.timeZone);
  const p = `${prefix}_x`;
  const filters: string[] = [];
  const keys = (expression: string) => `(SELECT DISTINCT ${expression} FROM ${diff} d)`;
  if (roles.order) filters.push(`order_id IN ${keys(roles.order)}`);
  if (roles.customer) filters.push(`customer_id IN ${keys(roles.customer)}`);
  if (roles.date) {
    // Any calendar a hypothesis may put the order on: Stockholm, UTC, or the day it arrived.
    const dates = keys(`TRY_CAST(${roles.date} AS DATE)`);
    filters.push(`(local_date IN ${dates} OR utc_date IN ${dates} OR arrival_date IN ${dates})`);
  }
  // One OrderPlaced per order (first deliveries only; an order is placed once, scenario and replay check it);
  // its payload (the lines) is read later, for the few orders whose money matters.
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${p}o AS SELECT * FROM (
      SELECT order_id, customer_id, placed_at, seq AS placed_seq, arrival_time AS placed_arrival, event_id AS placed_event, currency,
             CAST(timezone(${tz}, placed_at) AS DATE) AS local_date, CAST(placed_at AS DATE) AS utc_date,
             CAST(timezone(${tz}, arrival_time) AS DATE) AS arrival_date
        FROM events WHERE type = 'OrderPlaced' AND NOT redelivery AND order_id IS NOT NULL AND placed_at IS NOT NULL)
    ${filters.length > 0 ? `WHERE ${filters.join(' AND ')}` : ''}`);
  await loadDays(duck, options, `${p}o`, `${p}d`);

  // B, the batch's instant per order; and the instant its day's window closed in the stream.
  const watermark = options.watermark ? `CAST(${literal(options.watermark.toISOString())} AS TIMESTAMPTZ)` : `CAST('infinity' AS TIMESTAMPTZ)`;
  const grace = `INTERVAL ${Math.round(options.graceMs)} MILLISECOND`;
  await duck.run(
    options.windowed
      ? `CREATE OR REPLACE TEMP TABLE ${p}w AS
          WITH closing AS (
            SELECT event_time, min(arrival_time) OVER (ORDER BY event_time DESC RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS closes
              FROM events WHERE type IN ${ORDER_EVENTS})
          SELECT d.d, c.closes AS closed_at FROM ${p}d d ASOF LEFT JOIN closing c ON d.day_end + ${grace} <= c.event_time`
      : `CREATE OR REPLACE TEMP TABLE ${p}w AS SELECT d, CAST(NULL AS TIMESTAMPTZ) AS closed_at FROM ${p}d`,
  );
  // A dated batch that put the order on another day (its UTC day, the day it arrived) ran at that day's cut-off.
  const cutoffOf = (alias: string) => (options.dated ? `coalesce(${alias}.cutoff, CAST('infinity' AS TIMESTAMPTZ))` : watermark);
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${p}b AS
    SELECT o.order_id, ${cutoffOf('d')} AS b, ${cutoffOf('du')} AS b_utc, ${cutoffOf('da')} AS b_arr, w.closed_at
      FROM ${p}o o LEFT JOIN ${p}d d ON d.d = o.local_date LEFT JOIN ${p}d du ON du.d = o.utc_date LEFT JOIN ${p}d da ON da.d = o.arrival_date
      LEFT JOIN ${p}w w ON w.d = o.local_date`);

  // Each delivery of the orders' events, and whether each side takes it into account.
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${p}e AS
    SELECT e.order_id, e.seq, e.event_id, e.type, e.status, e.redelivery, e.arrival_time <= b.b AS seen_l, e.arrival_time <= b.b_utc AS seen_l_utc, e.arrival_time <= b.b_arr AS seen_l_arr,
           (b.closed_at IS NULL OR NOT (b.closed_at < e.arrival_time)) AS applied_r
      FROM events e JOIN ${p}b b USING (order_id) WHERE e.type IN ${ORDER_EVENTS}`);
  // A status event "counts" for the aggregates when it cancels; placed and delete always do.
  const counts = `(type <> 'OrderStatusChanged' OR status = 'cancelled')`;
  const differs = (which: string) => `NOT redelivery AND seen_l <> applied_r AND ${which}`;
  const catOf = `CASE WHEN seen_l THEN 'late' WHEN type = 'OrderPlaced' THEN 'late' ELSE 'upd' END`;
  // Unordered aggregates (ordered ones sort every group): the lists are sorted where they are shown.
  const eventsOf = (which: string) => `coalesce(list(event_id) FILTER (WHERE ${differs(which)}), [])`;
  const firstCat = (which: string) => `arg_min(${catOf}, seq) FILTER (WHERE ${differs(which)})`;
  const exists = (seen: string) =>
    `coalesce(bool_or(type = 'OrderPlaced' AND ${seen}) FILTER (WHERE NOT redelivery), false) AND NOT coalesce(bool_or(type = 'OrderDeleted' AND ${seen}) FILTER (WHERE NOT redelivery), false)`;
  const status = (seen: string, all = false) => `coalesce(arg_max(status, seq) FILTER (WHERE type = 'OrderStatusChanged' AND ${seen}${all ? '' : ' AND NOT redelivery'}), 'placed')`;
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${p}s AS
    SELECT order_id, ${exists('seen_l')} AS l_exists, ${status('seen_l')} AS l_status,
           ${exists('seen_l_utc')} AS l_exists_utc, ${status('seen_l_utc')} <> 'cancelled' AS l_active_utc,
           ${exists('seen_l_arr')} AS l_exists_arr, ${status('seen_l_arr')} <> 'cancelled' AS l_active_arr,
           ${exists('applied_r')} AS r_exists, ${status('applied_r')} AS r_status, ${status('applied_r', true)} AS r_status_dup,
           ${exists('true')} AS r_exists_all, ${status('true')} <> 'cancelled' AS r_active_all,
           ${firstCat("type <> 'OrderStatusChanged'")} AS pres_cat, ${eventsOf("type <> 'OrderStatusChanged'")} AS pres_events,
           ${firstCat(counts)} AS act_cat, ${eventsOf(counts)} AS act_events,
           ${firstCat("type = 'OrderStatusChanged'")} AS status_cat, ${eventsOf("type = 'OrderStatusChanged'")} AS status_events,
           coalesce(list(DISTINCT event_id) FILTER (WHERE redelivery AND applied_r AND type = 'OrderStatusChanged'), []) AS status_dup_events,
           count(*) FILTER (WHERE redelivery AND applied_r AND type = 'OrderPlaced') AS dup_count,
           coalesce(list(DISTINCT event_id) FILTER (WHERE redelivery AND applied_r AND type = 'OrderPlaced'), []) AS dup_events
      FROM ${p}e GROUP BY order_id`);

  // The customer as it stood at B (batch) and at the order's arrival (stream), and the changes between —
  // needed only when the key or the columns hold a customer attribute.
  if (roles.order !== undefined || roles.region !== undefined || roles.tier !== undefined) {
    await duck.run(`CREATE OR REPLACE TEMP TABLE ${p}cv AS
      SELECT customer_id, seq, arrival_time, event_id, type = 'CustomerDeleted' AS deleted, region, tier,
             region IS DISTINCT FROM lag(region) OVER w AS region_changed, tier IS DISTINCT FROM lag(tier) OVER w AS tier_changed
        FROM events WHERE type IN ('CustomerUpserted', 'CustomerDeleted') AND NOT redelivery AND customer_id IN (SELECT customer_id FROM ${p}o)
      WINDOW w AS (PARTITION BY customer_id ORDER BY seq)`);
    // arg_max skips NULL values, and a delete's region is NULL: pick whole versions as structs.
    const version = `{'region': v.region, 'tier': v.tier, 'deleted': v.deleted}`;
    const changes = (flag: string) => `coalesce(list(v.event_id) FILTER (WHERE v.${flag} AND v.arrival_time > o.placed_arrival AND v.arrival_time <= b.b), [])`;
    await duck.run(`CREATE OR REPLACE TEMP TABLE ${p}c AS
      SELECT order_id, l.region AS l_region, l.tier AS l_tier, coalesce(l.deleted, false) AS l_cust_deleted, r.region AS r_region, r.tier AS r_tier, region_changes, tier_changes FROM (
        SELECT o.order_id, arg_max(${version}, v.seq) FILTER (WHERE v.arrival_time <= b.b) AS l, arg_max(${version}, v.seq) FILTER (WHERE v.arrival_time <= o.placed_arrival) AS r,
               ${changes('region_changed')} AS region_changes, ${changes('tier_changed')} AS tier_changes
          FROM ${p}o o JOIN ${p}b b USING (order_id) LEFT JOIN ${p}cv v ON v.customer_id = o.customer_id GROUP BY o.order_id)`);
  } else {
    await duck.run(`CREATE OR REPLACE TEMP TABLE ${p}c AS SELECT order_id, NULL::VARCHAR AS l_region, NULL::VARCHAR AS l_tier, false AS l_cust_deleted,
        NULL::VARCHAR AS r_region, NULL::VARCHAR AS r_tier, []::VARCHAR[] AS region_changes, []::VARCHAR[] AS tier_changes FROM ${p}o`);
  }

  // The FX rate of the order's currency on its business day, at B and at the order's arrival (EUR: 1).
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${p}fx AS
    SELECT o.order_id,
           CASE WHEN o.currency = 'EUR' THEN CAST(100000000 AS HUGEINT) ELSE arg_max(v.rate, v.seq) FILTER (WHERE v.arrival_time <= b.b) END AS l_rate,
           CASE WHEN o.currency = 'EUR' THEN CAST(100000000 AS HUGEINT) ELSE arg_max(v.rate, v.seq) FILTER (WHERE v.arrival_time <= o.placed_arrival) END AS r_rate,
           coalesce(list(v.event_id) FILTER (WHERE o.currency <> 'EUR' AND v.arrival_time > o.placed_arrival AND v.arrival_time <= b.b), []) AS fx_changes
      FROM ${p}o o JOIN ${p}b b USING (order_id)
      LEFT JOIN (SELECT seq, arrival_time, event_id, currency, TRY_CAST(json_extract_string(payload, '$.rateDate') AS DATE) AS rate_date,
                        CAST(CAST(json_extract_string(payload, '$.rateToEur') AS DECIMAL(20, 8)) * 100000000 AS HUGEINT) AS rate
                   FROM events WHERE type = 'FxRateSet' AND NOT redelivery) v ON v.currency = o.currency AND v.rate_date = o.local_date
     GROUP BY o.order_id, o.currency`);

  // Only orders the two sides treat differently, or that a hypothesis moves to another day, can account for
  // anything: the money (JSON lines) is worked out for those alone.
  const moved = roles.date ? 'OR o.utc_date <> o.local_date OR o.arrival_date <> o.local_date' : '';
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${p}i AS SELECT o.* FROM ${p}o o JOIN ${p}s s USING (order_id) JOIN ${p}c c USING (order_id) JOIN ${p}fx fx USING (order_id)
    ${roles.order ? '' : `WHERE s.l_exists <> s.r_exists OR s.l_status IS DISTINCT FROM s.r_status OR s.r_status_dup IS DISTINCT FROM s.r_status OR s.dup_count > 0
       OR c.l_region IS DISTINCT FROM c.r_region OR c.l_tier IS DISTINCT FROM c.r_tier OR fx.l_rate IS DISTINCT FROM fx.r_rate ${moved}`}`);

  // The lines of each OrderPlaced, their net in cents, and EUR per line at each side's rate.
  const lineNet = divRound('CAST(l.quantity AS HUGEINT) * ' + cents('l.unitPrice') + ' * (10000 - ' + cents('l.discountPct') + ')', 'CAST(10000 AS HUGEINT)');
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${p}l AS
    SELECT order_id, l.productId AS product_id, CAST(l.quantity AS BIGINT) AS quantity, ${lineNet} AS net
      FROM (SELECT i.order_id, unnest(from_json(json_extract(e.payload, '$.lines'), '[{"productId":"VARCHAR","quantity":"BIGINT","unitPrice":"VARCHAR","discountPct":"VARCHAR"}]')) AS l
              FROM ${p}i i JOIN events e ON e.seq = i.placed_seq)`);
  const eur = (amount: string, rate: string) => `CASE WHEN ${rate} IS NULL THEN NULL ELSE ${divRound(`${amount} * ${rate}`, 'CAST(100000000 AS HUGEINT)')} END`;
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${p}p AS
    SELECT l.order_id, l.product_id, sum(l.quantity) AS units,
           sum(${eur('l.net', 'fx.l_rate')}) AS l_eur, sum(${eur('l.net', 'fx.r_rate')}) AS r_eur
      FROM ${p}l l JOIN ${p}fx fx USING (order_id) GROUP BY l.order_id, l.product_id`);

  const joinCat = `CASE WHEN c.l_cust_deleted THEN 'upd' ELSE 'join' END`;
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${p}f AS
    SELECT o.order_id, o.customer_id, o.placed_at, o.placed_event, o.local_date, o.utc_date, o.arrival_date,
           s.l_exists, s.l_status, s.l_status <> 'cancelled' AS l_active, s.l_exists_utc, s.l_active_utc, s.l_exists_arr, s.l_active_arr, c.l_region, c.l_tier, c.l_cust_deleted, ${eur('t.net', 'fx.l_rate')} AS l_eur,
           s.r_exists, s.r_status, s.r_status_dup, s.r_status <> 'cancelled' AS r_active, s.r_exists_all, s.r_active_all, c.r_region, c.r_tier, ${eur('t.net', 'fx.r_rate')} AS r_eur,
           t.units, t.net,
           s.pres_cat, s.pres_events, s.act_cat, s.act_events, s.status_cat, s.status_events, s.status_dup_events, s.dup_count, s.dup_events,
           CASE WHEN c.l_region IS DISTINCT FROM c.r_region THEN ${joinCat} END AS region_cat, [o.placed_event] || c.region_changes AS region_events,
           CASE WHEN c.l_tier IS DISTINCT FROM c.r_tier THEN ${joinCat} END AS tier_cat, [o.placed_event] || c.tier_changes AS tier_events,
           [o.placed_event] || fx.fx_changes AS fx_events
      FROM ${p}i o JOIN ${p}s s USING (order_id) JOIN ${p}c c USING (order_id) JOIN ${p}fx fx USING (order_id)
      JOIN (SELECT order_id, sum(quantity) AS units, sum(net) AS net FROM ${p}l GROUP BY order_id) t USING (order_id)`);
  return { orders: `${p}f`, products: `${p}p` };
}

/** Per date an order may land on: the end of that business day and the nightly cut-off after it (DST-aware, in JS). */
async function loadDays(duck: Duck, options: FactOptions, orders: string, table: string): Promise<void> {
  const rows = await duck.rows<{ d: string }>(
    `SELECT DISTINCT CAST(d AS VARCHAR) AS d FROM (SELECT local_date AS d FROM ${orders} UNION SELECT utc_date FROM ${orders} UNION SELECT arrival_date FROM ${orders}) WHERE d IS NOT NULL`,
  );
  const writer = new TextTableWriter(duck, `${table}_text`, ['d', 'day_end', 'cutoff']);
  await writer.open();
  writer.append(rows.map(({ d }) => [d, dayBounds(d, options.timeZone).end.toISOString(), cutoffFor(d, options.cutoffTime, options.timeZone).toISOString()]));
  writer.close();
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${table} AS SELECT CAST(d AS DATE) AS d, CAST(day_end AS TIMESTAMPTZ) AS day_end, CAST(cutoff AS TIMESTAMPTZ) AS cutoff FROM ${table}_text; DROP TABLE ${table}_text`);
}
