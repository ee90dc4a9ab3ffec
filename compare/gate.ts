/**
 * The migration gate: from one comparison's outcome, the transformation's manifest entry and its
 * history, decide pass or fail — and say why in sentences a reviewer can act on. Pure: no I/O.
 *
 * Rules (README "The CI gate"): `legacy` and `retired` are reported, never gated. `shadow` and
 * `cutover` fail on more unexplained differences than `maxUnexplained`, on an allowed category over
 * its `maxRatio`, and on other differences over `maxMismatchRatio` of the compared rows. Allowed
 * differences stay visible in the report. `cutover` also needs `promoteAfter` passing nights in a row.
 *
 * The streak counts nights, not invocations: a night is the cut-off / watermark the run judged. A passing
 * run for a night the streak already counts (a re-run, or an older night caught up later) keeps the streak
 * as it is, so three re-runs in an hour are one night; a failing run resets it, whatever its night.
 */
import type { ManifestEntry } from '../src/config-file.ts';
import type { DifferenceCategory } from '../src/differences.ts';
import { streakNeeds } from '../src/streak.ts';

export interface GateCounts {
  match: number;
  withinTolerance: number;
  mismatch: number;
  onlyLeft: number;
  onlyRight: number;
}

export interface GateInput {
  transform: string;
  counts: GateCounts;
  /** Differing rows per explanation category (`unexplained` included). */
  categories: Partial<Record<DifferenceCategory, number>>;
  /** Passing nights in a row before this run, from history. */
  previousStreak: number;
  /** The latest night (ISO instant) the previous streak counts; null when there is none, or the history predates nights. */
  previousNight?: string | null;
  /** The night this run judges: its cut-off / watermark (ISO instant). Without one, the run counts as a night of its own. */
  night?: string;
  /** Columns only one side has: the outputs do not have the same shape. */
  missingColumns?: { onlyLeft: string[]; onlyRight: string[] };
  /** Rows with a NULL key on each side: they could not be compared at all. */
  nullKeyRows?: { left: number; right: number };
}

export interface GateVerdict {
  transform: string;
  stage: ManifestEntry['stage'];
  gated: boolean;
  passed: boolean;
  /** Passing nights in a row including this run's (0 when this one fails). */
  streak: number;
  /** The latest night the streak counts (null when it is 0, or no night was given). */
  streakNight: string | null;
  reasons: string[];
  /** Allowed differences seen, kept visible. */
  allowed: { category: DifferenceCategory; count: number; ratio: number; maxRatio: number; reason: string }[];
}

const percent = (ratio: number): string => `${(ratio * 100).toFixed(2)} %`;

export function evaluateGate(input: GateInput, entry: ManifestEntry): GateVerdict {
  const { counts } = input;
  // The comparator files rows equal within tolerance under "rounding" too; they are not differences.
  const categories = { ...input.categories, rounding: Math.max(0, (input.categories.rounding ?? 0) - counts.withinTolerance) };
  const compared = counts.match + counts.withinTolerance + counts.mismatch + counts.onlyLeft + counts.onlyRight;
  const differing = counts.mismatch + counts.onlyLeft + counts.onlyRight;
  const ratioOf = (count: number): number => (compared === 0 ? 0 : count / compared);
  const reasons: string[] = [];
  const allowed: GateVerdict['allowed'] = [];

  const missing = input.missingColumns;
  if (missing && missing.onlyLeft.length + missing.onlyRight.length > 0) {
    const sides = [missing.onlyLeft.length ? `only the batch output has ${missing.onlyLeft.join(', ')}` : '', missing.onlyRight.length ? `only the stream output has ${missing.onlyRight.join(', ')}` : ''];
    reasons.push(`the outputs differ in shape: ${sides.filter(Boolean).join('; ')}`);
  }
  const nullKeys = input.nullKeyRows;
  if (nullKeys && nullKeys.left + nullKeys.right > 0) {
    reasons.push(`${nullKeys.left + nullKeys.right} row(s) with a NULL key (batch ${nullKeys.left}, stream ${nullKeys.right}) could not be compared`);
  }
  const unexplained = categories.unexplained ?? 0;
  if (unexplained > entry.thresholds.maxUnexplained) {
    reasons.push(`${unexplained} unexplained difference(s), more than the ${entry.thresholds.maxUnexplained} allowed: suspect a bug in one implementation`);
  }
  let allowedCount = 0;
  const judged = new Set<DifferenceCategory>();
  for (const rule of entry.allowedDifferences) {
    const category = rule.category as DifferenceCategory;
    if (judged.has(category)) continue; // the manifest schema refuses repeats; never subtract one twice
    judged.add(category);
    const count = categories[category] ?? 0;
    if (count === 0) continue;
    const ratio = ratioOf(count);
    allowed.push({ category, count, ratio, maxRatio: rule.maxRatio, reason: rule.reason });
    if (ratio > rule.maxRatio) reasons.push(`${category}: ${count} row(s), ${percent(ratio)} of ${compared} compared, over its allowed ${percent(rule.maxRatio)}`);
    // Judged by its own rule, pass or fail: never counted again below.
    allowedCount += count;
  }
  const rest = Math.max(0, differing - allowedCount - unexplained);
  if (ratioOf(rest) > entry.thresholds.maxMismatchRatio) {
    reasons.push(`${rest} explained but not allowed difference(s), ${percent(ratioOf(rest))} of ${compared} compared, over maxMismatchRatio ${percent(entry.thresholds.maxMismatchRatio)}`);
  }

  const gated = entry.stage === 'shadow' || entry.stage === 'cutover';
  const parity = reasons.length === 0;
  const { streak, streakNight, counted } = nextStreak(parity, input);
  if (entry.stage === 'cutover' && parity && streak < entry.promoteAfter) {
    const again = counted ? '' : ` (the night of ${input.night} already counts: a night is counted once, however often it is checked)`;
    reasons.push(`cutover needs ${entry.promoteAfter} passing nights in a row; this is ${streak}${again}; ${streakNeeds(streakNight)}`);
  }
  return { transform: input.transform, stage: entry.stage, gated, passed: !gated || reasons.length === 0, streak, streakNight, reasons, allowed };
}

/** The streak after this run: +1 for a passing run of a night later than any the streak counts, 0 for a failing one. */
export function nextStreak(parity: boolean, input: Pick<GateInput, 'previousStreak' | 'previousNight' | 'night'>): { streak: number; streakNight: string | null; counted: boolean } {
  if (!parity) return { streak: 0, streakNight: null, counted: false };
  const { previousStreak, previousNight, night } = input;
  if (previousStreak > 0 && night !== undefined && previousNight != null && Date.parse(night) <= Date.parse(previousNight)) {
    return { streak: previousStreak, streakNight: previousNight, counted: false };
  }
  return { streak: previousStreak + 1, streakNight: night ?? null, counted: true };
}
