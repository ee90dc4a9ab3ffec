/**
 * `--redact`: sample values replaced by a marker, and each explanation's reason by its category's meaning
 * (a reason quotes the values the events predict and the sides hold); keys, column names, counts, event ids
 * and timelines stay, so a difference can still be found and its cause looked up.
 */
import { DIFFERENCE_CATEGORIES } from '../../src/differences.ts';
import type { ExplainedDifference, Report, Sample } from '../types.ts';

export const REDACTED = '‹redacted›';

function redactSide(side: Record<string, unknown> | null, key: Record<string, unknown>): Record<string, unknown> | null {
  if (!side) return null;
  return Object.fromEntries(Object.entries(side).map(([name, value]) => [name, name in key ? value : value === null ? null : REDACTED]));
}

export function redactReport(report: Report): Report {
  return {
    ...report,
    comparisons: report.comparisons.map((comparison) => ({
      ...comparison,
      samples: comparison.samples.map((sample): Sample => ({ ...sample, left: redactSide(sample.left, sample.key), right: redactSide(sample.right, sample.key) })),
      differences: comparison.differences.map((difference): ExplainedDifference => ({ ...difference, reason: `${DIFFERENCE_CATEGORIES[difference.explanation]} (the reason, which quotes values, is ${REDACTED})` })),
    })),
  };
}
