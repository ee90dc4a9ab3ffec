/** JUnit XML: one testcase per comparison (transformation), failed when parity is violated. */
import type { Report } from '../types.ts';
import { renderMarkdown } from './markdown.ts';

// XML 1.0 allows tab, LF, CR and the printable ranges only; anything else is dropped.
// eslint-disable-next-line no-control-regex
export const xml = (text: string): string => text.replace(/[<>&"']/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[ch]!).replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD]/gu, '');

export function renderJunit(report: Report): string {
  const failures = report.comparisons.filter((c) => !c.parity).length;
  const seconds = (ms: Record<string, number>) => (Object.values(ms).reduce((a, b) => a + b, 0) / 1000).toFixed(3);
  const cases = report.comparisons.map((c) => {
    const n = c.counts;
    const summary = `mismatch ${n.mismatch}, only left ${n.onlyLeft}, only right ${n.onlyRight}, unexplained ${c.explained.unexplained ?? 0}`;
    const failure = c.parity ? '' : `\n      <failure message="${xml(`parity violated: ${summary}`)}" type="parity">${xml(renderMarkdown({ ...report, comparisons: [c] }))}</failure>`;
    return `    <testcase classname="dualrun.parity" name="${xml(c.name)}" time="${seconds(c.durationsMs)}">${failure}\n      <system-out>${xml(`match ${n.match}, within tolerance ${n.withinTolerance}, ${summary}`)}</system-out>\n    </testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="dualrun" tests="${report.comparisons.length}" failures="${failures}">\n  <testsuite name="dualrun parity" tests="${report.comparisons.length}" failures="${failures}" timestamp="${report.generatedAt}">\n${cases.join('\n')}\n  </testsuite>\n</testsuites>\n`;
}
