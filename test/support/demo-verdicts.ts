/**
 * A `dualrun demo` run as a user runs it, and what a person reads off its report: each transformation's
 * verdict, counts and explained differences (key, category, columns, explanation, proving events). The
 * CDC scenario suites compare these between an event-fed run and a run through Debezium.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runCli } from './cli.ts';

export interface ReportJson {
  comparisons: { name: string; parity: boolean; counts: Record<string, number>; explained: Record<string, number>; differences: { key: unknown; category: string; columns: string[]; explanation: string; events: string[] }[] }[];
}

/** `dualrun demo <args> --out <out>`; it must exit 0 (every difference explained), and its report.json is read. */
export async function runDemo(args: string[], out: string, env: NodeJS.ProcessEnv, timeoutMs = 280_000): Promise<ReportJson> {
  const result = await runCli(['demo', ...args, '--out', out], env, timeoutMs);
  expect(result.code, `dualrun demo ${args.join(' ')}:\n${result.stderr.slice(-3000)}`).toBe(0);
  return JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as ReportJson;
}

export function verdicts(report: ReportJson): unknown {
  return report.comparisons.map(({ name, parity, counts, explained, differences }) => ({
    name,
    parity,
    counts,
    explained,
    differences: differences.map(({ key, category, columns, explanation, events }) => ({ key, category, columns, explanation, events })),
  }));
}
