/** `--redact`: sample values replaced by a marker; keys, column names, counts and event ids stay, so a difference can still be found. */
import type { Report, Sample } from '../types.ts';

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
    })),
  };
}
