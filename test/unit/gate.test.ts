// The migration gate's rules, each with the boundary it turns on.
import { describe, expect, it } from 'vitest';
import { evaluateGate, nextStreak, type GateInput } from '../../compare/gate.ts';
import type { ManifestEntry } from '../../src/config-file.ts';
import { nextStep } from '../../src/cli/status.ts';
import type { GateHistoryRow } from '../../compare/gate-history.ts';

const entry = (overrides: Partial<ManifestEntry> = {}): ManifestEntry => ({
  stage: 'shadow',
  thresholds: { maxMismatchRatio: 0, maxUnexplained: 0 },
  allowedDifferences: [],
  promoteAfter: 3,
  ...overrides,
});

const input = (overrides: Partial<GateInput> = {}): GateInput => ({
  transform: 't',
  counts: { match: 96, withinTolerance: 0, mismatch: 4, onlyLeft: 0, onlyRight: 0 },
  categories: { late_arrival: 4 },
  previousStreak: 0,
  ...overrides,
});

describe('migration gate', () => {
  it('passes full parity and counts the streak', () => {
    const verdict = evaluateGate(input({ counts: { match: 100, withinTolerance: 0, mismatch: 0, onlyLeft: 0, onlyRight: 0 }, categories: {}, previousStreak: 2 }), entry());
    expect(verdict).toMatchObject({ gated: true, passed: true, streak: 3, reasons: [] });
  });

  it('fails explained differences that are not allowed', () => {
    const verdict = evaluateGate(input(), entry());
    expect(verdict.passed).toBe(false);
    expect(verdict.streak).toBe(0);
    expect(verdict.reasons[0]).toContain('4 explained but not allowed difference(s), 4.00 % of 100 compared');
  });

  it('lets an allowed difference pass at exactly its maxRatio and keeps it visible', () => {
    const verdict = evaluateGate(input(), entry({ allowedDifferences: [{ category: 'late_arrival', maxRatio: 0.04, reason: 'stream drops after grace' }] }));
    expect(verdict.passed).toBe(true);
    expect(verdict.allowed).toEqual([{ category: 'late_arrival', count: 4, ratio: 0.04, maxRatio: 0.04, reason: 'stream drops after grace' }]);
  });

  it('fails an allowed difference just over its maxRatio', () => {
    const verdict = evaluateGate(input(), entry({ allowedDifferences: [{ category: 'late_arrival', maxRatio: 0.0399, reason: 'r' }] }));
    expect(verdict.passed).toBe(false);
    // Judged once, by its own rule: not counted again as a not-allowed difference.
    expect(verdict.reasons).toEqual(['late_arrival: 4 row(s), 4.00 % of 100 compared, over its allowed 3.99 %']);
  });

  it('fails unexplained differences even when everything else is allowed', () => {
    const verdict = evaluateGate(input({ categories: { late_arrival: 3, unexplained: 1 } }), entry({ allowedDifferences: [{ category: 'late_arrival', maxRatio: 1, reason: 'r' }] }));
    expect(verdict.passed).toBe(false);
    expect(verdict.reasons).toEqual(['1 unexplained difference(s), more than the 0 allowed: suspect a bug in one implementation']);
  });

  it('tolerates other differences up to maxMismatchRatio', () => {
    expect(evaluateGate(input(), entry({ thresholds: { maxMismatchRatio: 0.04, maxUnexplained: 0 } })).passed).toBe(true);
    expect(evaluateGate(input(), entry({ thresholds: { maxMismatchRatio: 0.03, maxUnexplained: 0 } })).passed).toBe(false);
  });

  it('reports but never fails legacy and retired transformations', () => {
    for (const stage of ['legacy', 'retired'] as const) {
      const verdict = evaluateGate(input({ categories: { unexplained: 4 } }), entry({ stage }));
      expect(verdict).toMatchObject({ gated: false, passed: true });
      expect(verdict.reasons).not.toHaveLength(0);
    }
  });

  it('holds cutover until promoteAfter passing runs in a row', () => {
    const clean = { counts: { match: 10, withinTolerance: 0, mismatch: 0, onlyLeft: 0, onlyRight: 0 }, categories: {} };
    const early = evaluateGate(input({ ...clean, previousStreak: 1 }), entry({ stage: 'cutover' }));
    expect(early.passed).toBe(false);
    // Without a night (none given), any later one.
    expect(early.reasons).toEqual(['cutover needs 3 passing nights in a row; this is 2; each passing check of a later night adds one: run dualrun check after each nightly batch run (it judges the last 02:00 cut-off), or check a scenario whose last night is later']);
    expect(evaluateGate(input({ ...clean, previousStreak: 2 }), entry({ stage: 'cutover' })).passed).toBe(true);
  });
});

describe('migration gate: what is not a difference, and what is worse than one', () => {
  it('does not count rows equal within tolerance, which the comparator files under rounding', () => {
    // 900 match, 90 within tolerance, 10 late arrivals that are not allowed: rounding is allowed at 10 %.
    const verdict = evaluateGate(
      input({ counts: { match: 900, withinTolerance: 90, mismatch: 10, onlyLeft: 0, onlyRight: 0 }, categories: { rounding: 90, late_arrival: 10 } }),
      entry({ allowedDifferences: [{ category: 'rounding', maxRatio: 0.01, reason: 'cents' }] }),
    );
    expect(verdict.passed).toBe(false);
    expect(verdict.reasons).toEqual(['10 explained but not allowed difference(s), 1.00 % of 1000 compared, over maxMismatchRatio 0.00 %']);
    expect(verdict.allowed).toEqual([]);
  });

  it('fails outputs of a different shape even when every shared column matches', () => {
    const verdict = evaluateGate(input({ counts: { match: 10, withinTolerance: 0, mismatch: 0, onlyLeft: 0, onlyRight: 0 }, categories: {}, missingColumns: { onlyLeft: ['revenue_eur'], onlyRight: [] } }), entry());
    expect(verdict.passed).toBe(false);
    expect(verdict.reasons).toEqual(['the outputs differ in shape: only the batch output has revenue_eur']);
  });

  it('fails rows that could not be compared for a NULL key', () => {
    const verdict = evaluateGate(input({ counts: { match: 10, withinTolerance: 0, mismatch: 0, onlyLeft: 0, onlyRight: 0 }, categories: {}, nullKeyRows: { left: 0, right: 2 } }), entry());
    expect(verdict.reasons).toEqual(['2 row(s) with a NULL key (batch 0, stream 2) could not be compared']);
  });

  it('never subtracts an allowed category twice', () => {
    const twice = [{ category: 'late_arrival' as const, maxRatio: 0.5, reason: 'a' }, { category: 'late_arrival' as const, maxRatio: 0.5, reason: 'b' }];
    const verdict = evaluateGate(input({ categories: { late_arrival: 2, join_as_of_event_time: 2 } }), entry({ allowedDifferences: twice }));
    expect(verdict.passed).toBe(false);
    expect(verdict.reasons).toEqual(['2 explained but not allowed difference(s), 2.00 % of 100 compared, over maxMismatchRatio 0.00 %']);
  });
});

describe('migration gate: the streak counts nights, not runs', () => {
  const clean = { counts: { match: 10, withinTolerance: 0, mismatch: 0, onlyLeft: 0, onlyRight: 0 }, categories: {} };
  const monday = '2024-06-04T00:00:00.000Z';
  const tuesday = '2024-06-05T00:00:00.000Z';

  it('a re-run of a night the streak counts passes but does not lengthen it, and says why', () => {
    const again = evaluateGate(input({ ...clean, previousStreak: 2, previousNight: tuesday, night: tuesday }), entry({ stage: 'cutover' }));
    expect(again).toMatchObject({ passed: false, streak: 2, streakNight: tuesday });
    expect(again.reasons).toEqual([`cutover needs 3 passing nights in a row; this is 2 (the night of ${tuesday} already counts: a night is counted once, however often it is checked); each passing check of a later night than ${tuesday} adds one: run dualrun check after each nightly batch run (it judges the last 02:00 cut-off), or check a scenario whose last night is later`]);
    expect(evaluateGate(input({ ...clean, previousStreak: 2, previousNight: tuesday, night: tuesday }), entry())).toMatchObject({ passed: true, streak: 2 });
  });

  it('an earlier night checked late does not lengthen it either; the next night does', () => {
    expect(nextStreak(true, { previousStreak: 2, previousNight: tuesday, night: monday })).toEqual({ streak: 2, streakNight: tuesday, counted: false });
    expect(nextStreak(true, { previousStreak: 2, previousNight: monday, night: tuesday })).toEqual({ streak: 3, streakNight: tuesday, counted: true });
    expect(evaluateGate(input({ ...clean, previousStreak: 2, previousNight: monday, night: tuesday }), entry({ stage: 'cutover' }))).toMatchObject({ passed: true, streak: 3 });
  });

  it('a failing run resets the streak whatever its night; a passing re-run of that night then counts it', () => {
    expect(nextStreak(false, { previousStreak: 2, previousNight: tuesday, night: tuesday })).toEqual({ streak: 0, streakNight: null, counted: false });
    expect(nextStreak(true, { previousStreak: 0, previousNight: null, night: tuesday })).toEqual({ streak: 1, streakNight: tuesday, counted: true });
  });

  it('runs without a night, or after history without nights, each count once', () => {
    expect(nextStreak(true, { previousStreak: 1 })).toEqual({ streak: 2, streakNight: null, counted: true });
    expect(nextStreak(true, { previousStreak: 1, previousNight: null, night: tuesday })).toEqual({ streak: 2, streakNight: tuesday, counted: true });
  });
});

describe('migration board: the next step says what a streak needs', () => {
  const night = '2024-10-28T01:00:00.000Z';
  const row = (overrides: Partial<GateHistoryRow>): GateHistoryRow => ({ run_at: '2026-01-01T00:00:00Z', transform: 't', stage: 'cutover', passed: true, parity_passed: true, streak: 1, reasons: '', night, streak_night: night, ...overrides });
  const needs = `each passing check of a later night than ${night} adds one: run dualrun check after each nightly batch run (it judges the last 02:00 cut-off), or check a scenario whose last night is later`;

  it('a cutover at parity that only lacks nights is waiting, not FAILING', () => {
    expect(nextStep(entry({ stage: 'cutover' }), [row({ passed: false })])).toBe(`at parity; 2 more passing night(s) before the gate passes; ${needs}`);
    expect(nextStep(entry({ stage: 'cutover' }), [row({ passed: false, parity_passed: false, streak: 0, streak_night: null })])).toBe('FAILING: fix before trusting the stream');
    expect(nextStep(entry({ stage: 'cutover' }), [row({ streak: 3 })])).toBe('cut over: retire the batch job when ready');
  });

  it('a shadow transformation short of promoteAfter needs later nights', () => {
    expect(nextStep(entry(), [row({ stage: 'shadow' })])).toBe(`2 more passing night(s) before cutover; ${needs}`);
    expect(nextStep(entry(), [row({ stage: 'shadow', streak: 3 })])).toBe('ready for cutover');
  });
});
