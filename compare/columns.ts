/**
 * Which columns are compared and how: the kind of each column on each side (declared by a contract,
 * given by the DuckDB type, or — for text columns — inferred from the values, so decimal strings from
 * node-postgres compare as numbers, DESIGN.md 4.9), the merged rule, and the normalising SQL
 * expression each comparison is made on.
 */
import type { Column, ColumnRule } from '../src/transforms/contract.ts';
import { InputError } from '../src/errors.ts';
import { ident, type Duck } from './duck.ts';
import { checkRuleFits, unknownRuleColumn } from './rule-check.ts';
import type { ColumnKind, SchemaDiff } from './types.ts';

// A plain decimal literal; leading zeros excluded so identifiers like "007" stay text.
const NUMBER_PATTERN = String.raw`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`;
const TIMESTAMP_PATTERN = String.raw`[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[-+][0-9]{2}(:?[0-9]{2})?)?`;
const DATE_PATTERN = String.raw`[0-9]{4}-[0-9]{2}-[0-9]{2}`;

export interface ComparedColumn {
  name: string;
  kind: ColumnKind;
  rule: ColumnRule;
  isKey: boolean;
  /** The column's DuckDB type on each side. */
  types: { left: string; right: string };
}

export interface ColumnPlan {
  key: ComparedColumn[];
  values: ComparedColumn[];
  schema: SchemaDiff;
}

type DuckTypes = Map<string, string>;

export async function describeTable(duck: Duck, table: string): Promise<DuckTypes> {
  const rows = await duck.rows<{ column_name: string; column_type: string }>(`DESCRIBE ${ident(table)}`);
  return new Map(rows.map((row) => [row.column_name, row.column_type]));
}

function kindOfType(type: string): ColumnKind | 'text' | 'other' {
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL)/.test(type)) return 'number';
  if (type.startsWith('TIMESTAMP')) return 'timestamp';
  if (type === 'DATE') return 'date';
  if (type === 'VARCHAR') return 'text';
  return 'other';
}

const declaredKind: Record<Column['type'], ColumnKind> = { integer: 'number', decimal: 'number', timestamp: 'timestamp', date: 'date', string: 'string' };

/** The kind of each text column from its values: number, timestamp or date when every non-NULL value is one. */
const PATTERNS: Record<'number' | 'timestamp' | 'date', string> = { number: NUMBER_PATTERN, timestamp: TIMESTAMP_PATTERN, date: DATE_PATTERN };

/** Per column: non-NULL values and how many match each pattern, over `from`. */
async function kindCounts(duck: Duck, from: string, columns: string[]): Promise<Map<string, ColumnKind | 'empty'>> {
  const parts = columns.flatMap((column, i) => {
    const c = ident(column);
    return [`count(${c}) AS n${i}`, ...Object.entries(PATTERNS).map(([kind, pattern]) => `count(*) FILTER (WHERE regexp_full_match(${c}, '${pattern}')) AS ${kind}${i}`)];
  });
  const [row] = await duck.rows<Record<string, string | number>>(`SELECT ${parts.join(', ')} FROM ${from}`);
  const kinds = new Map<string, ColumnKind | 'empty'>();
  columns.forEach((column, i) => {
    const n = Number(row?.[`n${i}`] ?? 0);
    const all = (kind: string) => Number(row?.[`${kind}${i}`]) === n;
    kinds.set(column, n === 0 ? 'empty' : all('number') ? 'number' : all('timestamp') ? 'timestamp' : all('date') ? 'date' : 'string');
  });
  return kinds;
}

/**
 * The kind of each text column from its values: number, timestamp or date when every non-NULL value is one.
 * A sample proposes (one value that fits no pattern settles "string" for good); the whole table then
 * confirms each proposal with one pattern, so the answer is exact at a third of the work.
 */
async function inferTextKinds(duck: Duck, table: string, columns: string[]): Promise<Map<string, ColumnKind | 'empty'>> {
  if (columns.length === 0) return new Map();
  const proposed = await kindCounts(duck, `(SELECT * FROM ${ident(table)} LIMIT 10000)`, columns);
  const kinds = new Map<string, ColumnKind | 'empty'>();
  const undecided = columns.filter((column) => proposed.get(column) === 'empty');
  const toConfirm = columns.filter((column) => proposed.get(column) !== 'empty' && proposed.get(column) !== 'string');
  for (const column of columns) if (proposed.get(column) === 'string') kinds.set(column, 'string');
  if (toConfirm.length > 0) {
    const checks = toConfirm.map((column, i) => `count(*) FILTER (WHERE ${ident(column)} IS NOT NULL AND NOT regexp_full_match(${ident(column)}, '${PATTERNS[proposed.get(column) as 'number' | 'timestamp' | 'date']}')) AS x${i}`);
    const [row] = await duck.rows<Record<string, string | number>>(`SELECT ${checks.join(', ')} FROM ${ident(table)}`);
    const refuted: string[] = [];
    toConfirm.forEach((column, i) => {
      if (Number(row?.[`x${i}`] ?? 0) === 0) kinds.set(column, proposed.get(column)!);
      else refuted.push(column);
    });
    undecided.push(...refuted);
  }
  // All NULL in the sample, or a proposal the full table refuted: every pattern over the whole table.
  if (undecided.length > 0) for (const [column, kind] of await kindCounts(duck, ident(table), undecided)) kinds.set(column, kind);
  return kinds;
}

/**
 * Each column's kind on one side; `known` columns (declared by a contract) are not scanned. A text key
 * is text ("007" stays "007") — unless the other side's key is typed (a number, date or instant: a typed
 * database column, Parquet), when its values say whether it holds that type, as a value column's do.
 */
async function sideKinds(duck: Duck, table: string, types: DuckTypes, key: Set<string>, known: Map<string, ColumnKind>, otherTypes: DuckTypes): Promise<Map<string, ColumnKind | 'empty'>> {
  const kinds = new Map<string, ColumnKind | 'empty'>();
  const text: string[] = [];
  const typedKind = (type: string | undefined) => ['number', 'timestamp', 'date'].includes(kindOfType(type ?? ''));
  for (const [name, type] of types) {
    const kind = kindOfType(type);
    if (kind === 'text') {
      if (key.has(name) && !typedKind(otherTypes.get(name))) kinds.set(name, 'string');
      else if (known.has(name)) kinds.set(name, known.get(name)!);
      else text.push(name);
    } else kinds.set(name, kind === 'other' ? 'string' : kind);
  }
  for (const [name, kind] of await inferTextKinds(duck, table, text)) kinds.set(name, kind);
  return kinds;
}

/** Plans the comparison of two loaded tables; a key column missing on either side is a SchemaError. */
export async function planColumns(
  duck: Duck,
  left: { table: string; source: string },
  right: { table: string; source: string },
  key: string[],
  declared: readonly Column[] = [],
  overrides: Record<string, ColumnRule> = {},
  /** The overrides were typed as flags: refuse one that does not fit its column. */
  overridesFromFlags = false,
): Promise<ColumnPlan> {
  const leftTypes = await describeTable(duck, left.table);
  const rightTypes = await describeTable(duck, right.table);
  for (const [side, types] of [[left, leftTypes], [right, rightTypes]] as const) {
    const missing = key.filter((column) => !types.has(column));
    if (missing.length > 0) {
      throw new InputError(side.source, undefined, undefined, `key column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not found; it has ${[...types.keys()].join(', ') || 'no columns'}`, {
        hint: 'name the key columns as they are spelled in both sides (--key COL[,COL…])',
      });
    }
  }
  for (const [column, rule] of Object.entries(overrides)) {
    if (!leftTypes.has(column) && !rightTypes.has(column)) throw unknownRuleColumn(column, rule, [...new Set([...leftTypes.keys(), ...rightTypes.keys()])]);
  }
  const keySet = new Set(key);
  const byName = new Map(declared.map((column) => [column.name, column]));
  const known = new Map(declared.map((column) => [column.name, declaredKind[column.type]]));
  const leftKinds = await sideKinds(duck, left.table, leftTypes, keySet, known, rightTypes);
  const rightKinds = await sideKinds(duck, right.table, rightTypes, keySet, known, leftTypes);
  const schema: SchemaDiff = {
    onlyLeft: [...leftTypes.keys()].filter((name) => !rightTypes.has(name)),
    onlyRight: [...rightTypes.keys()].filter((name) => !leftTypes.has(name)),
    typeChanges: [],
  };
  const compared: ComparedColumn[] = [];
  for (const name of leftTypes.keys()) {
    if (!rightTypes.has(name)) continue;
    const l = leftKinds.get(name) ?? 'string';
    const r = rightKinds.get(name) ?? 'string';
    const rule = { ...byName.get(name)?.rule, ...overrides[name] };
    const declaredAs = byName.get(name) ? declaredKind[byName.get(name)!.type] : undefined;
    const agreed = l === 'empty' ? r : r === 'empty' || l === r ? l : undefined;
    if (agreed === undefined) schema.typeChanges.push({ column: name, left: `${leftTypes.get(name)} (${l})`, right: `${rightTypes.get(name)} (${r})` });
    let kind: ColumnKind = declaredAs ?? (agreed === undefined || agreed === 'empty' ? 'string' : agreed);
    // A tolerance only makes sense on numbers: a column given one is compared as numbers.
    if (!declaredAs && (rule.abs !== undefined || rule.rel !== undefined) && agreed !== undefined) kind = 'number';
    const types = { left: leftTypes.get(name)!, right: rightTypes.get(name)! };
    if (agreed === undefined && !keySet.has(name)) await refuseUncomparable(duck, name, types, { left: { ...left, kind: l }, right: { ...right, kind: r } });
    if (overridesFromFlags && overrides[name]) await checkRuleFits(duck, name, kind, overrides[name], [
        { table: left.table, numeric: kindOfType(types.left) === 'number' },
        { table: right.table, numeric: kindOfType(types.right) === 'number' },
      ]);
    compared.push({ name, kind, rule, isKey: keySet.has(name), types });
  }
  return {
    key: key.map((name) => compared.find((column) => column.name === name)!),
    values: compared.filter((column) => !column.isKey),
    schema,
  };
}

/**
 * A typed column (a number, date or instant by its DuckDB type, e.g. from Parquet) against a text column
 * holding values that are not of that type cannot be compared: DuckDB would fail converting them, and
 * comparing as text would call every row different. That is an input error naming the column, both
 * types, a value, and the fix. (Two text columns whose values look different are compared as text and
 * the type change is reported; a text column whose values all convert is compared as the planned kind.)
 */
async function refuseUncomparable(
  duck: Duck,
  name: string,
  types: { left: string; right: string },
  sides: Record<'left' | 'right', { table: string; source: string; kind: ColumnKind | 'empty' }>,
): Promise<void> {
  for (const [typed, text] of [['left', 'right'], ['right', 'left']] as const) {
    const typedKind = kindOfType(types[typed]);
    if (kindOfType(types[text]) !== 'text' || (typedKind !== 'number' && typedKind !== 'timestamp' && typedKind !== 'date')) continue;
    const c = ident(name);
    const [bad] = await duck.rows<{ v: string }>(`SELECT ${c} AS v FROM ${ident(sides[text].table)} WHERE ${c} IS NOT NULL AND TRY_CAST(${c} AS ${types[typed]}) IS NULL LIMIT 1`);
    if (!bad) continue;
    const what = { number: 'a number', timestamp: 'an instant', date: 'a date' }[typedKind];
    throw new InputError(
      `${sides.left.source} / ${sides.right.source}`,
      undefined,
      undefined,
      `column ${name} is ${types[typed]} (${what}) in ${sides[typed].source} but text (VARCHAR) in ${sides[text].source}, where ${JSON.stringify(bad.v)} is not ${what}: the two sides cannot be compared`,
      {
        hint: `give ${name} one type on both sides: fix the values in ${sides[text].source} that are not ${what}, or cast ${name} in the query or file that produces one side (e.g. to text on both sides, to compare it as text)`,
      },
    );
  }
}

const PRECISION_MS = { ms: 1, s: 1000, min: 60_000 } as const;

// Key types whose own equality is the equality their kind compares by, and whose every value has a
// normalised form (so it is NULL only when it is NULL): such a key, of one type on both sides, is joined
// as it is — no per-row conversion to text.
function nativeKinds(type: string): ColumnKind[] {
  if (type === 'VARCHAR' || type === 'BOOLEAN') return ['string'];
  if (type === 'DATE') return ['date', 'string'];
  if (/^U?(TINYINT|SMALLINT|INTEGER|BIGINT)$/.test(type)) return ['number', 'string'];
  // Decimals that DECIMAL(38,9) holds exactly.
  const decimal = /^DECIMAL\(([0-9]+),([0-9]+)\)$/.exec(type);
  return decimal && Number(decimal[2]) <= 9 && Number(decimal[1]) - Number(decimal[2]) <= 29 ? ['number', 'string'] : [];
}

/** Whether a key column is joined on its own values (one type on both sides, no rule changing equality). */
export function joinsNatively(column: ComparedColumn): boolean {
  const { left, right } = column.types;
  return left === right && !column.rule.trim && !column.rule.caseInsensitive && nativeKinds(left).includes(column.kind);
}

/** A key's text form from the SQL expression `ref`: plain text as it is, others their normalised value as text. */
export function keyText(column: ComparedColumn, ref: string): string {
  if (column.kind === 'string' && !column.rule.trim && !column.rule.caseInsensitive) return `CAST(${ref} AS VARCHAR)`;
  const text = `CAST(${normalizedOf(column, ref)} AS VARCHAR)`;
  // A number's normalised text has nine decimals (an INTEGER key against a BIGINT one showed as "2.000000000"):
  // the trailing zeros go, so it reads as written ("2", "2.5") and still names one number.
  return column.kind === 'number' ? `regexp_replace(${text}, '\\.?0+$', '')` : text;
}

/** A value column's raw value from `alias`: as it is when both sides have one type, else as text (never an implicit cast). */
export function rawValue(column: ComparedColumn, alias: string): string {
  const ref = `${alias}.${ident(column.name)}`;
  return column.types.left === column.types.right ? ref : `CAST(${ref} AS VARCHAR)`;
}

/** The SQL value a column is compared on, from `alias.column`. */
export function normalized(column: ComparedColumn, alias: string): string {
  return normalizedOf(column, `${alias}.${ident(column.name)}`);
}

/** The SQL value a column is compared on, from the SQL expression `ref`. */
export function normalizedOf(column: ComparedColumn, ref: string): string {
  switch (column.kind) {
    case 'number':
      // Exact decimals with 9 places; the 64-bit decimal parses ~100× faster than the 128-bit one, which
      // only values of 10^9 and more fall back to (COALESCE evaluates it for those rows only).
      return `coalesce(TRY_CAST(${ref} AS DECIMAL(18,9)), TRY_CAST(${ref} AS DECIMAL(38,9)))`;
    case 'timestamp': {
      // Instants as epoch milliseconds floored to the precision: integer work, no calendar (ICU) per row.
      const millis = `epoch_ms(TRY_CAST(${ref} AS TIMESTAMPTZ))`;
      const unit = PRECISION_MS[column.rule.precision ?? 'ms'];
      return unit === 1 ? millis : `CAST(floor(${millis} / ${unit}) AS BIGINT)`;
    }
    case 'date':
      return `TRY_CAST(${ref} AS DATE)`;
    case 'string': {
      let text = `CAST(${ref} AS VARCHAR)`;
      if (column.rule.trim) text = `trim(${text})`;
      if (column.rule.caseInsensitive) text = `lower(${text})`;
      return text;
    }
  }
}

/** An exact decimal literal for a tolerance (never a float in SQL: the boundary is exact). */
export function decimalLiteral(value: number): string {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`a tolerance must be a finite number ≥ 0, got ${value}`);
  const text = value.toFixed(12).replace(/0+$/, '').replace(/\.$/, '');
  return `CAST('${text}' AS DECIMAL(38,12))`;
}

/**
 * 0 equal, 1 equal within tolerance, 2 different — for normalised values `a` and `b`.
 * Tolerances are inclusive: |a − b| ≤ abs, or |a − b| ≤ rel × max(|a|, |b|).
 */
export function statusSql(column: ComparedColumn, a: string, b: string): string {
  const nullsEqual = column.rule.nullEqualsNull ?? true;
  const tolerance: string[] = [];
  if (column.kind === 'number') {
    if (column.rule.abs !== undefined) tolerance.push(`abs(${a} - ${b}) <= ${decimalLiteral(column.rule.abs)}`);
    if (column.rule.rel !== undefined) tolerance.push(`abs(${a} - ${b}) <= ${decimalLiteral(column.rule.rel)} * greatest(abs(${a}), abs(${b}))`);
  }
  return `CASE WHEN ${a} IS NULL AND ${b} IS NULL THEN ${nullsEqual ? 0 : 2} WHEN ${a} IS NULL OR ${b} IS NULL THEN 2 WHEN ${a} = ${b} THEN 0${
    tolerance.length > 0 ? ` WHEN ${tolerance.join(' OR ')} THEN 1` : ''
  } ELSE 2 END`;
}
