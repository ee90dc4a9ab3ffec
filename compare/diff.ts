/**
 * The diff, in SQL inside DuckDB, in two steps:
 *  1. one FULL OUTER JOIN on the key over the eligible rows of both sides compares each pair's raw values
 *     and keeps only the candidates (one side only, or some raw value distinct) — usually a handful. It
 *     carries nothing but the key and the values, keys of one type on both sides stay native, and the pass
 *     is a single aggregate that also tells whether every key on both sides has one row on each; if not
 *     (duplicate keys on both sides), an exact grouping by key finds the candidate keys instead. Rows with
 *     a NULL key (findings) and rows of unsettled windows ("not yet comparable") are counted apart;
 *  2. the candidates' rows are paired by key and multiplicity (the n-th copy meets the n-th) and compared
 *     column by column under the rules; rows that differ land in `<prefix>_rows`.
 * Nothing is hashed: raw-equal values are equal under every rule, so skipping them misses nothing.
 */
import { dayBounds } from '../src/time.ts';
import { ident, literal, type Duck } from './duck.ts';
import { joinsNatively, keyText, normalized, planColumns, rawValue, statusSql, type ColumnPlan, type ComparedColumn } from './columns.ts';
import type { ColumnStats, CompareRequest, Counts, KeyFinding, RowCategory, Sample, SchemaDiff } from './types.ts';

export interface DiffOutcome {
  plan: ColumnPlan;
  /** The table holding every differing row: k0…, dup, has_l, has_r, s0… (status per value column), l0/r0… raw text, cat. */
  rowsTable: string;
  leftRows: number;
  rightRows: number;
  counts: Counts;
  notYetComparable: { left: number; right: number; dates: string[] };
  notRunByBatch: { left: number; right: number; dates: string[] };
  findings: { duplicateKeys: KeyFinding; nullKeys: KeyFinding };
  schema: SchemaDiff;
  columns: Record<string, ColumnStats>;
  samples: Sample[];
  durationsMs: Record<string, number>;
}

const EXAMPLES = 10;

/** The dates (of the window column) whose window is still open at the watermark. */
async function unsettledDates(duck: Duck, request: CompareRequest): Promise<string[]> {
  const window = request.window;
  if (!window) return [];
  const c = ident(window.dateColumn);
  const rows = await duck.rows<{ d: string | null }>(
    `SELECT DISTINCT CAST(TRY_CAST(${c} AS DATE) AS VARCHAR) AS d FROM (SELECT ${c} FROM ${ident(request.leftTable)} UNION ALL SELECT ${c} FROM ${ident(request.rightTable)})`,
  );
  return rows
    .map((row) => row.d)
    .filter((date): date is string => date !== null)
    .filter((date) => dayBounds(date, window.timeZone).end.getTime() + window.graceMs > window.watermark.getTime())
    .sort();
}

/** The dates (of a dated output's date column) in either table that the batch never ran, apart from open ones. */
async function unrunDates(duck: Duck, request: CompareRequest, open: readonly string[]): Promise<string[]> {
  const ran = request.ranDates;
  if (!ran) return [];
  const c = ident(ran.dateColumn);
  const rows = await duck.rows<{ d: string | null }>(
    `SELECT DISTINCT CAST(TRY_CAST(${c} AS DATE) AS VARCHAR) AS d FROM (SELECT ${c} FROM ${ident(request.leftTable)} UNION ALL SELECT ${c} FROM ${ident(request.rightTable)})`,
  );
  const known = new Set(ran.dates);
  return rows
    .map((row) => row.d)
    .filter((date): date is string => date !== null && !known.has(date) && !open.includes(date))
    .sort();
}

/** How many candidates the big pass keeps in memory; more take a second pass that writes them to a table. */
export const PAIR_CAP = 500_000;

export async function diffTables(duck: Duck, request: CompareRequest, prefix: string, tuning = { pairCap: PAIR_CAP }): Promise<DiffOutcome> {
  const durationsMs: Record<string, number> = {};
  let started = Date.now();
  const lap = (phase: string) => {
    durationsMs[phase] = Date.now() - started;
    started = Date.now();
  };
  const plan = await planColumns(duck, { table: request.leftTable, source: request.leftSource }, { table: request.rightTable, source: request.rightSource }, request.key, request.columns, request.rules, request.rulesFromFlags);
  const open = await unsettledDates(duck, request);
  const unrun = await unrunDates(duck, request, open);
  lap('plan');

  // A native key is NULL only when it is NULL; others when their normalised value is.
  const keyNull = plan.key.map((column) => `${joinsNatively(column) ? `t.${ident(column.name)}` : normalized(column, 't')} IS NULL`).join(' OR ');
  const unsettled = open.length > 0 && request.window
    ? `TRY_CAST(t.${ident(request.window.dateColumn)} AS DATE) IN (${open.map((date) => `DATE ${literal(date)}`).join(', ')})`
    : 'false';
  const notRun = unrun.length > 0 && request.ranDates
    ? `TRY_CAST(t.${ident(request.ranDates.dateColumn)} AS DATE) IN (${unrun.map((date) => `DATE ${literal(date)}`).join(', ')})`
    : 'false';
  const eligible = `NOT (${keyNull}) AND NOT (${unsettled}) AND NOT (${notRun})`;
  // Keys as text (reports, the exact grouping): plain text keys as they are, others on their normalised value.
  const keyExprs = plan.key.map((column) => keyText(column, `t.${ident(column.name)}`));
  const keyList = plan.key.map((_, i) => `k${i}`).join(', ');
  const keyOf = (expressions: string[]) => expressions.map((expression, i) => `${expression} AS k${i}`).join(', ');

  // Whether a pair differs in its raw values (`l` and `r` give value i of each side). Raw-equal values are
  // equal under every rule, so only these pairs need the rules — except NULLs in a column where NULL never
  // equals NULL.
  const differs = (l: (i: number) => string, r: (i: number) => string) =>
    [...plan.values.map((_, i) => `${l(i)} IS DISTINCT FROM ${r(i)}`), ...plan.values.flatMap((column, i) => (column.rule.nullEqualsNull === false ? [`(${l(i)} IS NULL AND ${r(i)} IS NULL)`] : []))].join(' OR ') || 'false';

  // Rows with a NULL key (findings), rows of unsettled windows ("not yet comparable") and of dates the batch
  // never ran ("not run by batch") never pair: they are counted here (separate counts, so DuckDB answers from its statistics when a key has no NULLs and
  // no window is open) and the join below leaves them out.
  const sideCounts = async (table: string, side: 'left' | 'right') => {
    const from = `FROM ${ident(table)} t`;
    const [row] = await duck.rows<Record<string, string | number>>(
      `SELECT (SELECT count(*) ${from}) AS total, (SELECT count(*) ${from} WHERE ${keyNull}) AS nulls, (SELECT count(*) ${from} WHERE NOT (${keyNull}) AND ${unsettled}) AS unsettled, (SELECT count(*) ${from} WHERE NOT (${keyNull}) AND ${notRun}) AS unrun`,
    );
    const [total, nullRows, unsettledRows, unrunRows] = [Number(row?.total ?? 0), Number(row?.nulls ?? 0), Number(row?.unsettled ?? 0), Number(row?.unrun ?? 0)];
    let nullKeys = 0;
    let nullExamples: KeyFinding['examples'] = [];
    if (nullRows > 0) {
      const groups = await duck.rows<Record<string, unknown>>(`SELECT ${keyOf(keyExprs)}, count(*) AS n FROM ${ident(table)} t WHERE ${keyNull} GROUP BY ALL ORDER BY n DESC, ${keyList}`);
      nullKeys = groups.length;
      nullExamples = groups.slice(0, EXAMPLES).map((group) => ({ side, key: keyObject(plan, group), rows: Number(group.n) }));
    }
    return { total, nullRows, unsettledRows, unrunRows, eligibleRows: total - nullRows - unsettledRows - unrunRows, nullKeys, nullExamples };
  };
  const left = await sideCounts(request.leftTable, 'left');
  const right = await sideCounts(request.rightTable, 'right');

  // 1. One FULL OUTER JOIN on the key over the eligible rows of both sides, carrying only the raw values:
  // keys of one type on both sides are joined natively (no per-row conversion), values are compared as
  // they are (as text where the sides' types differ). A pair is a candidate when a side is missing or some
  // raw value is distinct. The pass is one aggregate (no groups): it counts the rows of each side in the join
  // and keeps the candidates (fewer than `pairCap`; else a second pass writes them to a table, which can spill).
  // A left row appears once per right row of its key: the left rows appear exactly as often as there are
  // eligible ones iff no key on both sides has two right rows (and likewise the other way round); then every
  // key on both sides is one row on each and the candidates are complete. Otherwise (duplicate keys on both
  // sides) the exact grouping by key takes over.
  const side = (table: string) =>
    `SELECT ${[...plan.key.map((column, i) => `${joinsNatively(column) ? `t.${ident(column.name)}` : keyExprs[i]} AS k${i}`), ...plan.values.map((column, i) => `${rawValue(column, 't')} AS v${i}`)].join(', ')} FROM ${ident(table)} t WHERE ${eligible}`;
  const join = `FROM (${side(request.leftTable)}) l FULL OUTER JOIN (${side(request.rightTable)}) r ON ${plan.key.map((_, i) => `l.k${i} = r.k${i}`).join(' AND ')}`;
  const candidate = `l.k0 IS NULL OR r.k0 IS NULL OR ${differs((i) => `l.v${i}`, (i) => `r.v${i}`)}`;
  const fields = [...plan.key.flatMap((_, i) => [['lk', `l.k${i}`, i], ['rk', `r.k${i}`, i]] as const), ...plan.values.flatMap((_, i) => [['l', `l.v${i}`, i], ['r', `r.v${i}`, i]] as const)];
  const joinTable = `${prefix}_join`;
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${joinTable} AS
    SELECT count(lk0) AS jl, count(rk0) AS jr, min_by(pair, 0, ${tuning.pairCap}) FILTER (WHERE candidate) AS pairs
      FROM (SELECT l.k0 AS lk0, r.k0 AS rk0, {${fields.map(([name, expression, i]) => `${name}${i}: ${expression}`).join(', ')}} AS pair, ${candidate} AS candidate ${join})`);
  const [pass] = await duck.rows<Record<string, string | number>>(`SELECT jl, jr, coalesce(len(pairs), 0) AS kept FROM ${joinTable}`);
  const oneToOne = Number(pass?.jl) === left.eligibleRows && Number(pass?.jr) === right.eligibleRows;
  const pairingTable = `${prefix}_pairing`;
  const candidates = oneToOne ? pairingTable : `${prefix}_cand`;
  if (oneToOne) {
    const kept = Number(pass?.kept) < tuning.pairCap
      ? `SELECT unnest(pairs, recursive := true) FROM ${joinTable}`
      : `SELECT ${fields.map(([name, expression, i]) => `${expression} AS ${name}${i}`).join(', ')} ${join} WHERE ${candidate}`;
    // Natively joined keys become text here, for the candidates only.
    const keys = plan.key.map((column, i) => `${joinsNatively(column) ? keyText(column, `coalesce(lk${i}, rk${i})`) : `coalesce(lk${i}, rk${i})`} AS k${i}`);
    await duck.run(`CREATE OR REPLACE TEMP TABLE ${pairingTable} AS
      SELECT ${[...keys, 'lk0 IS NOT NULL AS has_l', 'rk0 IS NOT NULL AS has_r', ...plan.values.flatMap((_, i) => [`l${i}`, `r${i}`])].join(', ')} FROM (${kept})`);
  } else {
    // Exact: rows per key and side, and the keys that are not one raw-equal row on each side.
    const sideValues = (side: number) => plan.values.flatMap((column, i) => [`${side === 0 ? rawValue(column, 't') : 'NULL'} AS l${i}`, `${side === 1 ? rawValue(column, 't') : 'NULL'} AS r${i}`]);
    const firstOf = (side: number, name: string) => `first(${name}) FILTER (WHERE side = ${side})`;
    await duck.run(`CREATE OR REPLACE TEMP TABLE ${candidates} AS
      SELECT ${keyList}, count(*) FILTER (WHERE side = 0) AS nl, count(*) FILTER (WHERE side = 1) AS nr
        FROM (SELECT ${[keyOf(keyExprs), '0 AS side', ...sideValues(0)].join(', ')} FROM ${ident(request.leftTable)} t WHERE ${eligible}
              UNION ALL SELECT ${[keyOf(keyExprs), '1 AS side', ...sideValues(1)].join(', ')} FROM ${ident(request.rightTable)} t WHERE ${eligible})
       GROUP BY ${keyList}
      HAVING NOT (nl = 1 AND nr = 1 AND NOT (${differs((i) => firstOf(0, `l${i}`), (i) => firstOf(1, `r${i}`))}))`);
  }
  await duck.run(`DROP TABLE ${joinTable}`);
  lap('pair');

  // 2. The candidates' rows, paired and compared column by column.
  const rowsTable = `${prefix}_rows`;
  await duck.run(candidatesSql(request, plan, rowsTable, candidates, keyExprs, oneToOne ? 'pairs' : 'key', eligible));
  // Duplicate keys: from the exact grouping, or — when every key on both sides is one-to-one — only keys on
  // one side, all of whose rows are among the compared ones.
  const duplicateKeys = await duplicateFinding(duck, plan, oneToOne ? `(SELECT ${keyList}, count(*) FILTER (WHERE has_l) AS nl, count(*) FILTER (WHERE has_r) AS nr FROM ${rowsTable} GROUP BY ${keyList})` : candidates);
  lap('compare');

  const counts = await countCategories(duck, rowsTable, left.eligibleRows);
  const columns = await columnStats(duck, rowsTable, plan.values);
  const samples = await readSamples(duck, rowsTable, plan, request.sampleLimit ?? 20);
  lap('summarise');

  return {
    plan,
    rowsTable,
    leftRows: left.total,
    rightRows: right.total,
    counts,
    notYetComparable: { left: left.unsettledRows, right: right.unsettledRows, dates: open },
    notRunByBatch: { left: left.unrunRows, right: right.unrunRows, dates: unrun },
    findings: {
      duplicateKeys,
      nullKeys: { left: left.nullKeys, right: right.nullKeys, leftRows: left.nullRows, rightRows: right.nullRows, examples: [...left.nullExamples, ...right.nullExamples] },
    },
    schema: plan.schema,
    columns,
    samples,
    durationsMs,
  };
}

async function duplicateFinding(duck: Duck, plan: ColumnPlan, groups: string): Promise<KeyFinding> {
  const keyList = plan.key.map((_, i) => `k${i}`).join(', ');
  const [dups] = await duck.rows<Record<string, string | number | null>>(
    `SELECT count(*) FILTER (WHERE nl > 1) AS lk, coalesce(sum(nl) FILTER (WHERE nl > 1), 0) AS lr, count(*) FILTER (WHERE nr > 1) AS rk, coalesce(sum(nr) FILTER (WHERE nr > 1), 0) AS rr FROM ${groups}`,
  );
  const examples = async (side: 'left' | 'right') => {
    const n = side === 'left' ? 'nl' : 'nr';
    const rows = await duck.rows<Record<string, unknown>>(`SELECT ${keyList}, ${n} AS n FROM ${groups} WHERE ${n} > 1 ORDER BY ${n} DESC, ${keyList} LIMIT ${EXAMPLES}`);
    return rows.map((row) => ({ side, key: keyObject(plan, row), rows: Number(row.n) }));
  };
  return {
    left: Number(dups?.lk ?? 0),
    right: Number(dups?.rk ?? 0),
    leftRows: Number(dups?.lr ?? 0),
    rightRows: Number(dups?.rr ?? 0),
    examples: [...(Number(dups?.lk) > 0 ? await examples('left') : []), ...(Number(dups?.rk) > 0 ? await examples('right') : [])],
  };
}

function keyObject(plan: ColumnPlan, row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(plan.key.map((column, i) => [column.name, row[`k${i}`]]));
}

/**
 * The candidates' rows from both sides, the n-th copy of a key paired with the n-th on the other side
 * (copies ordered by their normalised values, so identical copies pair up whatever the row order),
 * compared under the rules; rows equal after normalisation ("1.0" and "1.00") are matches and dropped.
 */
function candidatesSql(request: CompareRequest, plan: ColumnPlan, rowsTable: string, candidates: string, keyExprs: string[], by: 'pairs' | 'key', eligible: string): string {
  const keyList = plan.key.map((_, i) => `k${i}`).join(', ');
  const side = (table: string, which: 'l' | 'r') => {
    // Then by raw text: copies equal once normalised but not raw (values that do not convert to their kind) pair up too.
    const order = [...plan.values.map((column) => normalized(column, 't')), ...plan.values.map((column) => `CAST(t.${ident(column.name)} AS VARCHAR)`)];
    const ordinal = `row_number() OVER (PARTITION BY ${plan.key.map((_, i) => `t.k${i}`).join(', ')} ORDER BY ${order.join(', ') || '1'}) AS dup`;
    // In the pairs, values already are as compared (text where the sides' types differ); by key, from the tables.
    const raws = plan.values.map((column, i) => `${by === 'pairs' ? `t.${ident(column.name)}` : rawValue(column, 't')} AS raw${i}`);
    // The candidate pairs themselves (one-to-one: the pairing holds their raw values), or by key (the
    // candidates are keys; all their rows). Either gives k0… and the value columns under their own names.
    const rows = by === 'pairs'
      ? `SELECT ${[...plan.key.map((_, i) => `k${i}`), ...plan.values.map((column, i) => `${which}${i} AS ${ident(column.name)}`)].join(', ')} FROM ${candidates} WHERE has_${which}`
      : `SELECT *, ${keyExprs.map((expression, i) => `${expression} AS k${i}`).join(', ')} FROM ${ident(table)} t SEMI JOIN ${candidates} g ON ${keyExprs.map((expression, i) => `g.k${i} = ${expression}`).join(' AND ')} WHERE ${eligible}`;
    return `SELECT ${[...plan.key.map((_, i) => `t.k${i}`), ...raws, ordinal].join(', ')}
      FROM (${rows}) t`;
  };
  const on = [...plan.key.map((_, i) => `l.k${i} = r.k${i}`), 'l.dup = r.dup'].join(' AND ');
  const value = (column: ComparedColumn, alias: string, name: string) => normalized({ ...column, name }, alias);
  // A value that does not convert to its column's kind (normalised to NULL) equals only its raw self.
  const unconvertible = (column: ComparedColumn, alias: string, i: number) => `(${value(column, alias, `raw${i}`)} IS NULL AND ${alias}.raw${i} IS NOT NULL)`;
  const statuses = plan.values.map(
    (column, i) =>
      `CASE WHEN l.raw${i} = r.raw${i} THEN 0 WHEN ${unconvertible(column, 'l', i)} OR ${unconvertible(column, 'r', i)} THEN 2 ELSE ${statusSql(column, value(column, 'l', `raw${i}`), value(column, 'r', `raw${i}`))} END AS s${i}`,
  );
  const extras = plan.values.flatMap((column, i) => {
    // Report text in the pinned representation where it differs from the raw one (instants as ISO UTC).
    const asText = (name: string) =>
      column.kind === 'timestamp' ? `coalesce(strftime(TRY_CAST(${name} AS TIMESTAMPTZ), '%Y-%m-%dT%H:%M:%S.%gZ'), CAST(${name} AS VARCHAR))` : `CAST(${name} AS VARCHAR)`;
    const text = [`${asText(`l${i}`)} AS l${i}`, `${asText(`r${i}`)} AS r${i}`];
    if (column.kind !== 'number') return text;
    const a = value(column, 'f', `l${i}`);
    const b = value(column, 'f', `r${i}`);
    return [...text, `abs(${a} - ${b}) AS ad${i}`, `CASE WHEN greatest(abs(${a}), abs(${b})) = 0 THEN 0 ELSE CAST(abs(${a} - ${b}) AS DOUBLE) / CAST(greatest(abs(${a}), abs(${b})) AS DOUBLE) END AS rd${i}`];
  });
  const maxStatus = plan.values.length > 0 ? `greatest(${plan.values.map((_, i) => `s${i}`).join(', ')})` : '0';
  return `CREATE OR REPLACE TEMP TABLE ${rowsTable} AS
    WITH l AS (${side(request.leftTable, 'l')}), r AS (${side(request.rightTable, 'r')}),
    j AS (
      SELECT ${plan.key.map((_, i) => `coalesce(l.k${i}, r.k${i}) AS k${i}`).join(', ')}, coalesce(l.dup, r.dup) AS dup,
             l.k0 IS NOT NULL AS has_l, r.k0 IS NOT NULL AS has_r
             ${statuses.length > 0 ? `, ${statuses.join(', ')}` : ''}
             ${plan.values.length > 0 ? `, ${plan.values.flatMap((_, i) => [`l.raw${i} AS l${i}`, `r.raw${i} AS r${i}`]).join(', ')}` : ''}
        FROM l FULL OUTER JOIN r ON ${on}
    ),
    f AS (SELECT * FROM j WHERE NOT (has_l AND has_r AND ${maxStatus} = 0))
    SELECT ${[keyList, 'dup', 'has_l', 'has_r', ...plan.values.map((_, i) => `s${i}`), ...extras].join(', ')},
           CASE WHEN NOT has_r THEN 'onlyLeft' WHEN NOT has_l THEN 'onlyRight' WHEN ${maxStatus} = 2 THEN 'mismatch' ELSE 'withinTolerance' END AS cat
      FROM f`;
}

async function countCategories(duck: Duck, rowsTable: string, leftEligible: number): Promise<Counts> {
  const rows = await duck.rows<{ cat: RowCategory; n: number | string }>(`SELECT cat, count(*) AS n FROM ${rowsTable} GROUP BY cat`);
  const counts: Counts = { match: 0, withinTolerance: 0, mismatch: 0, onlyLeft: 0, onlyRight: 0 };
  for (const row of rows) counts[row.cat] = Number(row.n);
  // Every eligible left row is paired or left alone: what is not a difference is a match.
  counts.match = leftEligible - counts.onlyLeft - counts.mismatch - counts.withinTolerance;
  return counts;
}

async function columnStats(duck: Duck, rowsTable: string, values: ComparedColumn[]): Promise<Record<string, ColumnStats>> {
  const stats: Record<string, ColumnStats> = {};
  if (values.length === 0) return stats;
  const parts = values.flatMap((column, i) => [
    `count(*) FILTER (WHERE has_l AND has_r AND s${i} = 2) AS m${i}`,
    `count(*) FILTER (WHERE has_l AND has_r AND s${i} = 1) AS w${i}`,
    ...(column.kind === 'number' ? [`CAST(max(ad${i}) AS DOUBLE) AS ad${i}`, `max(rd${i}) AS rd${i}`] : []),
  ]);
  const [row] = await duck.rows<Record<string, string | number | null>>(`SELECT ${parts.join(', ')} FROM ${rowsTable}`);
  values.forEach((column, i) => {
    const number = (value: unknown) => (value === null || value === undefined ? null : Number(value));
    stats[column.name] = {
      kind: column.kind,
      rule: column.rule,
      mismatches: Number(row?.[`m${i}`] ?? 0),
      withinTolerance: Number(row?.[`w${i}`] ?? 0),
      maxAbsDiff: column.kind === 'number' ? (number(row?.[`ad${i}`]) ?? 0) : null,
      maxRelDiff: column.kind === 'number' ? (number(row?.[`rd${i}`]) ?? 0) : null,
    };
  });
  return stats;
}

/** Turns rows of the differing-rows table into key / differing columns / both sides. */
export function rowToSample(row: Record<string, unknown>, plan: ColumnPlan): Sample {
  const key = Object.fromEntries(plan.key.map((column, i) => [column.name, keyValue(column, row[`k${i}`])]));
  const category = row.cat as Sample['category'];
  const side = (prefix: 'l' | 'r', present: boolean) =>
    present ? { ...key, ...Object.fromEntries(plan.values.map((column, i) => [column.name, row[`${prefix}${i}`] ?? null])) } : null;
  return {
    category,
    key,
    // A mismatch names the columns that differ beyond their rules (not those within tolerance); a row within tolerance, those within it.
    columns: category === 'mismatch' || category === 'withinTolerance' ? plan.values.filter((_, i) => Number(row[`s${i}`]) === (category === 'mismatch' ? 2 : 1)).map((column) => column.name) : [],
    left: side('l', row.has_l === true),
    right: side('r', row.has_r === true),
  };
}

/** A key as people read it: an instant key (joined on its epoch milliseconds) as ISO UTC again. */
export function keyValue(column: ComparedColumn, value: unknown): unknown {
  if (column.kind === 'timestamp' && typeof value === 'string' && /^-?\d+$/.test(value)) {
    const unit = { ms: 1, s: 1000, min: 60_000 }[column.rule.precision ?? 'ms'];
    return new Date(Number(value) * unit).toISOString();
  }
  return value;
}

export function keyOrder(plan: ColumnPlan): string {
  return [...plan.key.map((_, i) => `k${i}`), 'dup'].join(', ');
}

async function readSamples(duck: Duck, rowsTable: string, plan: ColumnPlan, limit: number): Promise<Sample[]> {
  const rows = await duck.rows<Record<string, unknown>>(
    `SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY cat ORDER BY ${keyOrder(plan)}) AS sample_rank FROM ${rowsTable}) WHERE sample_rank <= ${limit} ORDER BY cat, ${keyOrder(plan)}`,
  );
  return rows.map((row) => rowToSample(row, plan));
}
