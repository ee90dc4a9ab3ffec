// The diff against a model worked out in plain TypeScript, on small random relations with repeated keys,
// NULL keys and NULL values, so both ways the diff pairs rows are exercised: one join when every key on
// both sides has one row on each (the usual case), and the exact grouping by key when some key repeats on
// both sides. The model: NULL-key rows are set aside; per key the copies on each side, ordered by their
// values, are paired n-th with n-th; a pair matches when every value is equal (NULL equals NULL unless the
// column's rule says otherwise); unpaired copies are on one side only; a key with two or more rows on a
// side is a duplicate finding there.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareRelations } from '../../compare/index.ts';

type Value = string | null;
type Row = [Value, Value, Value];
const COLUMNS = ['id', 'a', 'b'];

// Letters only, so every column is compared as text and orders the same way in TypeScript and DuckDB.
const rowArb = fc.tuple(fc.constantFrom<Value>('k1', 'k2', 'k3', 'k4', 'k5', null), fc.constantFrom<Value>('x', 'y', null), fc.constantFrom<Value>('p', 'q', null));
const relationArb = fc.array(rowArb, { maxLength: 12 });

function model(left: Row[], right: Row[], nullsEqualInB: boolean) {
  const counts = { match: 0, withinTolerance: 0, mismatch: 0, onlyLeft: 0, onlyRight: 0 };
  const byKey = (rows: Row[]) => {
    const groups = new Map<string, Row[]>();
    for (const row of rows) if (row[0] !== null) groups.set(row[0], [...(groups.get(row[0]) ?? []), row]);
    // NULLs last, as DuckDB orders them.
    const order = (a: Value, b: Value) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1);
    for (const copies of groups.values()) copies.sort((x, y) => order(x[1], y[1]) || order(x[2], y[2]));
    return groups;
  };
  const l = byKey(left);
  const r = byKey(right);
  for (const key of new Set([...l.keys(), ...r.keys()])) {
    const ls = l.get(key) ?? [];
    const rs = r.get(key) ?? [];
    for (let i = 0; i < Math.max(ls.length, rs.length); i++) {
      const a = ls[i];
      const b = rs[i];
      if (!b) counts.onlyLeft++;
      else if (!a) counts.onlyRight++;
      else {
        const sameA = a[1] === b[1];
        const sameB = a[2] === b[2] && (a[2] !== null || nullsEqualInB);
        if (sameA && sameB) counts.match++;
        else counts.mismatch++;
      }
    }
  }
  const duplicates = (groups: Map<string, Row[]>) => [...groups.values()].filter((copies) => copies.length > 1);
  return {
    counts,
    duplicateKeys: { left: duplicates(l).length, right: duplicates(r).length, leftRows: duplicates(l).reduce((n, c) => n + c.length, 0), rightRows: duplicates(r).reduce((n, c) => n + c.length, 0) },
    nullKeys: { leftRows: left.filter((row) => row[0] === null).length, rightRows: right.filter((row) => row[0] === null).length },
  };
}

// Many DuckDB diffs per property: the timeout only guards against a hang (speed is measured in bench/).
describe('compare: against a model, with repeated and NULL keys', { timeout: 180_000 }, () => {
  it('counts, duplicate findings and NULL-key findings agree with the model', async () => {
    await fc.assert(
      fc.asyncProperty(relationArb, relationArb, fc.boolean(), async (left, right, nullsEqualInB) => {
        const result = await compareRelations({
          left: { kind: 'rows', name: 'left', columns: COLUMNS, rows: left },
          right: { kind: 'rows', name: 'right', columns: COLUMNS, rows: right },
          key: ['id'],
          ...(nullsEqualInB ? {} : { rules: { b: { nullEqualsNull: false } } }),
        });
        const expected = model(left, right, nullsEqualInB);
        expect(result.counts).toEqual(expected.counts);
        expect(result.findings.duplicateKeys).toMatchObject(expected.duplicateKeys);
        expect(result.findings.nullKeys).toMatchObject(expected.nullKeys);
      }),
      { numRuns: 120 },
    );
  });
});
