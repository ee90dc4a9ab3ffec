/**
 * Where a compiled SQL statement names a column of a table — through the table's name or an alias it is
 * given (`"customers" as "c"`, `` `customers` as `c` ``, `customers as c`), quoted the PostgreSQL or the
 * MariaDB way or not at all — and the statement with those references renamed. Chapter 3 uses it to find
 * what a column rename in a legacy table breaks in the batch job's SQL, and to make the fix.
 */

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const quoted = (name: string): string => `(?:"${escape(name)}"|\`${escape(name)}\`|${escape(name)})`;

/** The names a statement uses for `table`: the table's own and every alias it is given. */
export function tableAliases(sql: string, table: string): string[] {
  const aliases = new Set([table]);
  const pattern = new RegExp(`(?<![\\w"\`])${quoted(table)}\\s+as\\s+["\`]?([A-Za-z_][\\w]*)["\`]?`, 'gi');
  for (const match of sql.matchAll(pattern)) aliases.add(match[1]!);
  return [...aliases];
}

function referencePattern(sql: string, table: string, column: string): RegExp {
  const names = tableAliases(sql, table).map(quoted).join('|');
  return new RegExp(`(?<![\\w"\`.])(?:${names})\\.(["\`]?)${escape(column)}\\1(?![\\w"\`])`, 'g');
}

/** How many times `sql` names `table.column` (through any of the table's names). */
export function columnReferences(sql: string, table: string, column: string): number {
  return [...sql.matchAll(referencePattern(sql, table, column))].length;
}

/** `sql` with every reference to `table.from` naming `table.to` instead, quoted as it was. */
export function renameColumnReferences(sql: string, table: string, from: string, to: string): string {
  return sql.replace(referencePattern(sql, table, from), (match, quote: string) => `${match.slice(0, match.length - from.length - 2 * quote.length)}${quote}${to}${quote}`);
}
