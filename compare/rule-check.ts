/**
 * The per-run rules of `dualrun compare` (--tolerance, --rule) checked against the columns they name:
 * a rule on a column neither side has, a tolerance on a column of text, a timestamp precision on a
 * number, a text rule on a number or an instant — each would be ignored, or turn every row into a
 * difference, so each is refused naming the flag as it was typed. (The library's `rules` stay as they
 * are: a tolerance there makes a column compare as numbers, whatever it holds.)
 */
import { UsageError } from '../src/errors.ts';
import type { ColumnRule } from '../src/transforms/contract.ts';
import { ident, type Duck } from './duck.ts';
import type { ColumnKind } from './types.ts';

/** The flags a rule came from, written back as people type them. */
function flagsOf(column: string, rule: ColumnRule): { tolerance: string[]; other: string[] } {
  const tolerance = [...(rule.abs !== undefined ? [`--tolerance ${column}=abs:${rule.abs}`] : []), ...(rule.rel !== undefined ? [`--tolerance ${column}=rel:${rule.rel}`] : [])];
  const other = [
    ...(rule.precision ? [`--rule ${column}=precision:${rule.precision}`] : []),
    ...(rule.trim ? [`--rule ${column}=trim`] : []),
    ...(rule.caseInsensitive ? [`--rule ${column}=nocase`] : []),
    ...(rule.nullEqualsNull === false ? [`--rule ${column}=null-distinct`] : []),
  ];
  return { tolerance, other };
}

/** A rule naming a column neither side has. */
export function unknownRuleColumn(column: string, rule: ColumnRule, columns: readonly string[]): UsageError {
  const { tolerance, other } = flagsOf(column, rule);
  const flags = [...tolerance, ...other];
  const flag = tolerance.length > 0 ? '--tolerance' : '--rule';
  return new UsageError(`${flags.join(', ')}: neither side has a column ${column} (they have ${columns.join(', ') || 'no columns'})`, { hint: `name a column of both sides in ${flag}` });
}

const KIND_WORDS: Record<ColumnKind, string> = { number: 'numbers', timestamp: 'instants', date: 'dates', string: 'text' };

/**
 * Refuses a run rule that does not fit how its column is compared. `kind` is the column's compared kind
 * (a tolerance makes any text column compare as numbers, so for a tolerance the values are looked at too;
 * a side whose DuckDB type is a number — Parquet, a typed database column — holds numbers by its type,
 * and only its count of values is read).
 */
export async function checkRuleFits(duck: Duck, column: string, kind: ColumnKind, rule: ColumnRule, sides: readonly { table: string; numeric: boolean }[]): Promise<void> {
  const { tolerance, other } = flagsOf(column, rule);
  if (tolerance.length > 0) {
    const refuse = (holds: string) => new UsageError(`${tolerance.join(', ')}: column ${column} holds ${holds}; a tolerance applies to numbers`, { hint: `drop ${tolerance.join(' and ')}, or name a number column` });
    if (kind !== 'number') throw refuse(KIND_WORDS[kind]);
    // Number-like text is a number column, a few values that are not ("N/A") then differ; text with no number at all is text.
    const c = ident(column);
    const perSide = sides.map(({ table, numeric }) =>
      numeric
        ? `SELECT count(${c}) AS numbers, CAST(NULL AS VARCHAR) AS example FROM ${ident(table)}`
        : `SELECT count(*) FILTER (WHERE TRY_CAST(v AS DOUBLE) IS NOT NULL) AS numbers, min(v) FILTER (WHERE TRY_CAST(v AS DOUBLE) IS NULL) AS example FROM (SELECT CAST(${c} AS VARCHAR) AS v FROM ${ident(table)}) WHERE v IS NOT NULL`,
    );
    const [row] = await duck.rows<{ numbers: number | string; example: string | null }>(`SELECT sum(numbers) AS numbers, min(example) AS example FROM (${perSide.join(' UNION ALL ')})`);
    if (row && Number(row.numbers) === 0 && row.example !== null) throw refuse(`text and no number (${JSON.stringify(row.example)}, …)`);
  }
  const misfit = (flag: string, wants: ColumnKind) => new UsageError(`${flag}: column ${column} is compared as ${KIND_WORDS[kind]}; this rule applies to ${KIND_WORDS[wants]}`, { hint: `drop ${flag}, or name a column of ${KIND_WORDS[wants]}` });
  for (const flag of other) {
    if (flag.includes('=precision:') && kind !== 'timestamp') throw misfit(flag, 'timestamp');
    if ((flag.endsWith('=trim') || flag.endsWith('=nocase')) && kind !== 'string') throw misfit(flag, 'string');
  }
}
