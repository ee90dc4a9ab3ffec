/**
 * The migration gate: from one comparison's outcome, the transformation's manifest entry and its
 * history, decide pass or fail — and say why in sentences a reviewer can act on. Pure: no I/O.
 *
 * Rules (README "The CI gate"): `legacy` and `retired` are reported, never gated. `shadow` and
 * `cutover` fail on more unexplained differences than `maxUnexplained`, on an allowed category over
 * its `maxRatio`, and on other differences over `maxMismatchRatio` of the compared rows. Allowed
 * differences stay visible in the report. `cutover` also needs `promoteAfter` consecutive passing runs.
 */
import type { ManifestEntry } from '../src/config-file.ts';
import type { DifferenceCategory } from '../src/differences.ts';

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
  /** Passing runs in a row before this one, newest first, from history. */
  previousStreak: number;
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
  /** Passing runs in a row including this one (0 when this one fails). */
  streak: number;
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
  const streak = parity ? input.previousStreak + 1 : 0;
  if (entry.stage === 'cutover' && parity && streak < entry.promoteAfter) {
    reasons.push(`cutover needs ${entry.promoteAfter} passing runs in a row; this is ${streak}`);
  }
  return { transform: input.transform, stage: entry.stage, gated, passed: !gated || reasons.length === 0, streak, reasons, allowed };
}
