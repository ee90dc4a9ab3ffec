/**
 * The gate's verdicts for people and CI: a Markdown section for the job summary (verdict per
 * transformation, why it failed, which allowed differences it used) and JUnit XML with one testcase
 * per transformation, failing exactly where the gate fails.
 */
import type { GateVerdict } from '../gate.ts';
import { xml } from './junit.ts';

const percent = (ratio: number): string => `${(ratio * 100).toFixed(2)} %`;

function verdictLabel(verdict: GateVerdict): string {
  if (!verdict.gated) return `➖ not gated (${verdict.stage})`;
  return verdict.passed ? '✅ pass' : '❌ FAIL';
}

export function renderGateMarkdown(verdicts: readonly GateVerdict[]): string {
  const failed = verdicts.filter((verdict) => !verdict.passed).length;
  const lines = [
    `## dualrun migration gate: ${failed === 0 ? '✅ pass' : `❌ ${failed} failing`}`,
    '',
    '| transformation | stage | verdict | passing streak | allowed differences |',
    '| --- | --- | --- | ---: | --- |',
  ];
  for (const verdict of verdicts) {
    const allowed = verdict.allowed.map((a) => `${a.category} ${a.count} (${percent(a.ratio)} ${a.ratio <= a.maxRatio ? '≤' : '> allowed'} ${percent(a.maxRatio)})`).join(', ') || '—';
    lines.push(`| ${verdict.transform} | ${verdict.stage} | ${verdictLabel(verdict)} | ${verdict.streak} | ${allowed} |`);
  }
  for (const verdict of verdicts.filter((v) => v.reasons.length > 0)) {
    lines.push('', `**${verdict.transform}** (${verdict.stage}):`, ...verdict.reasons.map((reason) => `- ${reason}`));
  }
  for (const verdict of verdicts.filter((v) => v.allowed.length > 0)) {
    lines.push('', `Allowed in ${verdict.transform}, and why:`, ...verdict.allowed.map((a) => `- ${a.category}: ${a.reason}`));
  }
  return `${lines.join('\n')}\n`;
}

export function renderGateJunit(verdicts: readonly GateVerdict[], generatedAt: string): string {
  const failures = verdicts.filter((verdict) => !verdict.passed).length;
  const cases = verdicts.map((verdict) => {
    const body = verdict.passed
      ? `\n      <system-out>${xml(verdict.gated ? `pass, streak ${verdict.streak}` : `not gated (${verdict.stage})`)}${xml(verdict.reasons.length ? `: ${verdict.reasons.join('; ')}` : '')}</system-out>`
      : `\n      <failure message="${xml(verdict.reasons[0] ?? 'gate failed')}" type="gate">${xml(verdict.reasons.join('\n'))}</failure>`;
    return `    <testcase classname="dualrun.gate.${xml(verdict.stage)}" name="${xml(verdict.transform)}">${body}\n    </testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="dualrun gate" tests="${verdicts.length}" failures="${failures}">\n  <testsuite name="dualrun migration gate" tests="${verdicts.length}" failures="${failures}" timestamp="${generatedAt}">\n${cases.join('\n')}\n  </testsuite>\n</testsuites>\n`;
}
