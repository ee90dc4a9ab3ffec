/**
 * The diff, in SQL inside DuckDB: both sides normalised per column, rows with a NULL key or an
 * unsettled window set aside (findings / "not yet comparable"), duplicates paired by multiplicity,
 * one FULL OUTER JOIN by key whose differing rows (only those) land in table `<prefix>_rows`, and the
 * counts, per-column statistics and samples read from that small table.
 */
import { dayBounds } from '../src/domain/time.ts';
import { ident, literal, type Duck } from './duck.ts';
import { normalized, planColumns, statusSql, type ColumnPlan, type ComparedColumn } from './columns.ts';
import type { ColumnStats, CompareRequest, Counts, KeyFinding, RowCategory, Sample, SchemaDiff } from './types.ts';

export interface DiffOutcome {
  plan: ColumnPlan;
  /** The table holding every differing row: k0…, cat, s0… (status per value column), l_/r_ raw values. */
  rowsTable: string;
  leftRows: number;
  rightRows: number;
  counts: Counts;
  notYetComparable: { left: number; right: number; dates: string[] };
  findings: { duplicateKeys: KeyFinding; nullKeys: KeyFinding };
  schema: SchemaDiff;
  columns: Record<string, ColumnStats>;
  samples: Sample[];
  durationsMs: Record<string, number>;
}

interface SideStats {
  total: number;
  nullKeyRows: number;
  unsettledRows: number;
  eligibleRows: number;
  duplicateKeys: number;
  duplicateRows: number;
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

export async function diffTables(duck: Duck, request: CompareRequest, prefix: string): Promise<DiffOutcome> {
  const durationsMs: Record<string, number> = {};
  let started = Date.now();
  const lap = (phase: string) => {
    durationsMs[phase] = Date.now() - started;
    started = Date.now();
  };
  const plan = await planColumns(duck, { table: request.leftTable, source: request.leftSource }, { table: request.rightTable, source: request.rightSource }, request.key, request.columns, request.rules);
  const open = await unsettledDates(duck, request);
  lap('plan');

  const keyNull = plan.key.map((column) => `${normalized(column, 't')} IS NULL`).join(' OR ');
  const unsettled = open.length > 0 && request.window
    ? `CAST(TRY_CAST(t.${ident(request.window.dateColumn)} AS DATE) AS VARCHAR) IN (${open.map(literal).join(', ')})`
    : 'false';
  const keyExprs = plan.key.map((column, i) => `CAST(${normalized(column, 't')} AS VARCHAR) AS k${i}`);

  // One aggregation per side: NULL keys, unsettled rows, duplicate keys (counts and examples).
  const sideStats = async (table: string, side: 'left' | 'right'): Promise<{ stats: SideStats; dupExamples: KeyFinding['examples']; nullExamples: KeyFinding['examples'] }> => {
    // Aggregated without materialising the groups; the groups are re-read only for examples, when there are findings.
    const groups = `SELECT ${keyExprs.join(', ')}, (${keyNull}) AS nullkey, (${unsettled}) AS unsettled, count(*) AS n FROM ${ident(table)} t GROUP BY ALL`;
    const [row] = await duck.rows<Record<string, string | number | null>>(
      `SELECT coalesce(sum(n), 0) AS total, coalesce(sum(n) FILTER (WHERE nullkey), 0) AS nullKeyRows,
              coalesce(sum(n) FILTER (WHERE unsettled AND NOT nullkey), 0) AS unsettledRows,
              coalesce(sum(n) FILTER (WHERE NOT nullkey AND NOT unsettled), 0) AS eligibleRows,
              count(*) FILTER (WHERE n > 1 AND NOT nullkey AND NOT unsettled) AS duplicateKeys,
              coalesce(sum(n) FILTER (WHERE n > 1 AND NOT nullkey AND NOT unsettled), 0) AS duplicateRows
         FROM (${groups})`,
    );
    const stats = Object.fromEntries(Object.entries(row ?? {}).map(([name, value]) => [name, Number(value ?? 0)])) as unknown as SideStats;
    const examples = async (where: string) =>
      (await duck.rows<Record<string, unknown>>(`SELECT * FROM (${groups}) WHERE ${where} ORDER BY n DESC, ${plan.key.map((_, i) => `k${i}`).join(', ')} LIMIT ${EXAMPLES}`)).map((example) => ({
        side,
        key: Object.fromEntries(plan.key.map((column, i) => [column.name, example[`k${i}`]])),
        rows: Number(example.n),
      }));
    return {
      stats,
      dupExamples: stats.duplicateKeys > 0 ? await examples('n > 1 AND NOT nullkey AND NOT unsettled') : [],
      nullExamples: stats.nullKeyRows > 0 ? await examples('nullkey') : [],
    };
  };
  const left = await sideStats(request.leftTable, 'left');
  const right = await sideStats(request.rightTable, 'right');
  lap('keys');

  const rowsTable = `${prefix}_rows`;
  await duck.run(joinSql(request, plan, rowsTable, keyNull, unsettled, left.stats.duplicateKeys + right.stats.duplicateKeys > 0));
  lap('join');

  const counts = await countCategories(duck, rowsTable, left.stats.eligibleRows);
  const columns = await columnStats(duck, rowsTable, plan.values);
  const samples = await readSamples(duck, rowsTable, plan, request.sampleLimit ?? 20);
  lap('summarise');

  const finding = (l: number, r: number, lr: number, rr: number, examples: KeyFinding['examples']): KeyFinding => ({ left: l, right: r, leftRows: lr, rightRows: rr, examples });
  return {
    plan,
    rowsTable,
    leftRows: left.stats.total,
    rightRows: right.stats.total,
    counts,
    notYetComparable: { left: left.stats.unsettledRows, right: right.stats.unsettledRows, dates: open },
    findings: {
      duplicateKeys: finding(left.stats.duplicateKeys, right.stats.duplicateKeys, left.stats.duplicateRows, right.stats.duplicateRows, [...left.dupExamples, ...right.dupExamples]),
      nullKeys: finding(left.nullExamples.length, right.nullExamples.length, left.stats.nullKeyRows, right.stats.nullKeyRows, [...left.nullExamples, ...right.nullExamples]),
    },
    schema: plan.schema,
    columns,
    samples,
    durationsMs,
  };
}

/**
 * The FULL OUTER JOIN, keeping only rows that are not an exact match. Sides carry raw values; a value is
 * normalised only when its raw text differs from the other side's (CASE evaluates lazily), and the
 * differences' extras (numeric gaps, text for the report) are computed after the filter, on the few rows left.
 */
function joinSql(request: CompareRequest, plan: ColumnPlan, rowsTable: string, keyNull: string, unsettled: string, pairDuplicates: boolean): string {
  const side = (table: string) => {
    const keys = plan.key.map((column, i) => `${column.kind === 'string' && !column.rule.trim && !column.rule.caseInsensitive ? `CAST(t.${ident(column.name)} AS VARCHAR)` : `CAST(${normalized(column, 't')} AS VARCHAR)`} AS k${i}`);
    const raws = plan.values.map((column, i) => `t.${ident(column.name)} AS raw${i}`);
    // Duplicates are paired by multiplicity: the n-th copy of a key meets the n-th on the other side,
    // copies ordered by their normalised values so identical copies pair up whatever the row order.
    const ordinal = pairDuplicates
      ? `row_number() OVER (PARTITION BY ${plan.key.map((_, i) => `k${i}`).join(', ')} ORDER BY ${plan.values.map((column) => normalized(column, 't')).join(', ') || '1'}) AS dup`
      : '1 AS dup';
    return `SELECT ${[...keys, ...raws, ordinal].join(', ')} FROM ${ident(table)} t WHERE NOT (${keyNull}) AND NOT (${unsettled})`;
  };
  const on = [...plan.key.map((_, i) => `l.k${i} = r.k${i}`), 'l.dup = r.dup'].join(' AND ');
  const asValue = (column: ComparedColumn, alias: string, i: number) => normalized({ ...column, name: `raw${i}` }, alias);
  const statuses = plan.values.map((column: ComparedColumn, i) => {
    const full = statusSql(column, asValue(column, 'l', i), asValue(column, 'r', i));
    return `CASE WHEN l.raw${i} = r.raw${i} THEN 0 ELSE ${full} END AS s${i}`;
  });
  const extras = plan.values.flatMap((column, i) => {
    const text = [`CAST(l${i} AS VARCHAR) AS l${i}`, `CAST(r${i} AS VARCHAR) AS r${i}`];
    if (column.kind !== 'number') return text;
    const a = normalized({ ...column, name: `l${i}` }, 'f');
    const b = normalized({ ...column, name: `r${i}` }, 'f');
    return [...text, `abs(${a} - ${b}) AS ad${i}`, `CASE WHEN greatest(abs(${a}), abs(${b})) = 0 THEN 0 ELSE CAST(abs(${a} - ${b}) AS DOUBLE) / CAST(greatest(abs(${a}), abs(${b})) AS DOUBLE) END AS rd${i}`];
  });
  const maxStatus = plan.values.length > 0 ? `greatest(${plan.values.map((_, i) => `s${i}`).join(', ')})` : '0';
  const keyColumns = plan.key.map((_, i) => `k${i}`).join(', ');
  const statusColumns = plan.values.map((_, i) => `s${i}`);
  return `CREATE OR REPLACE TEMP TABLE ${rowsTable} AS
    WITH l AS (${side(request.leftTable)}), r AS (${side(request.rightTable)}),
    j AS (
      SELECT ${plan.key.map((_, i) => `coalesce(l.k${i}, r.k${i}) AS k${i}`).join(', ')}, coalesce(l.dup, r.dup) AS dup,
             l.k0 IS NOT NULL AS has_l, r.k0 IS NOT NULL AS has_r
             ${statuses.length > 0 ? `, ${statuses.join(', ')}` : ''}
             ${plan.values.length > 0 ? `, ${plan.values.flatMap((_, i) => [`l.raw${i} AS l${i}`, `r.raw${i} AS r${i}`]).join(', ')}` : ''}
        FROM l FULL OUTER JOIN r ON ${on}
    ),
    f AS (SELECT * FROM j WHERE NOT (has_l AND has_r AND ${maxStatus} = 0))
    SELECT ${[keyColumns, 'dup', 'has_l', 'has_r', ...statusColumns, ...extras].join(', ')},
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
  const key = Object.fromEntries(plan.key.map((column, i) => [column.name, row[`k${i}`]]));
  const category = row.cat as Sample['category'];
  const side = (prefix: 'l' | 'r', present: boolean) =>
    present ? { ...key, ...Object.fromEntries(plan.values.map((column, i) => [column.name, row[`${prefix}${i}`] ?? null])) } : null;
  return {
    category,
    key,
    columns: category === 'mismatch' || category === 'withinTolerance' ? plan.values.filter((_, i) => Number(row[`s${i}`]) > 0).map((column) => column.name) : [],
    left: side('l', row.has_l === true),
    right: side('r', row.has_r === true),
  };
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
