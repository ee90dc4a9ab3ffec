/**
 * `dualrun demo` run as a user runs it, and what a person reads off its report.json: each
 * transformation's verdict, counts and explained differences. Shared by the suites that compare two
 * ways of feeding the streaming job (the shop's and the metering example's scenarios with --source cdc).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runCli } from './cli.ts';

export interface ReportJson {
  comparisons: { name: string; parity: boolean; counts: Record<string, number>; explained: Record<string, number>; differences: { key: unknown; category: string; columns: string[]; explanation: string; events: string[] }[] }[];
}

/** Runs `dualrun demo ARGS --out OUT`, expects exit 0 (every difference explained) and reads its report.json. */
export async function demoReport(args: string[], out: string, env: NodeJS.ProcessEnv, timeoutMs = 280_000): Promise<ReportJson> {
  const result = await runCli(['demo', ...args, '--out', out], env, timeoutMs);
  expect(result.code, `dualrun demo ${args.join(' ')}:\n${result.stderr.slice(-3000)}\n${result.stdout.slice(-2000)}`).toBe(0);
  return JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as ReportJson;
}

/** What a person reads off a report: each transformation's verdict, counts and explained differences. */
export function verdicts(report: ReportJson): unknown {
  return report.comparisons.map(({ name, parity, counts, explained, differences }) => ({
    name,
    parity,
    counts,
    explained,
    differences: differences.map(({ key, category, columns, explanation, events }) => ({ key, category, columns, explanation, events })),
  }));
}
