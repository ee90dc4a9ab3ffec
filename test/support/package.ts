/**
 * dualrun as a user gets it: `npm pack` of the repository (its prepack builds dist/), installed into
 * fresh projects of either kind — `npm init -y` (CommonJS) and one with `"type": "module"` — from the
 * npm cache (`--prefer-offline`: the registry is asked only for what the cache lacks). For the package
 * test and the start-up benchmark.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess, type CliResult } from './cli.ts';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

export type RunResult = CliResult;

/**
 * The environment for a child run as a user would run it: no npm_* variables of an `npm test` around
 * us (npm_config_local_prefix and the like would point npm at the repository).
 */
export function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!/^npm_/i.test(name) && name !== 'INIT_CWD') env[name] = value;
  return { ...env, ...extra };
}

export function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = userEnv(), timeoutMs = 180_000): Promise<RunResult> {
  return runProcess(command, args, { cwd, env, timeoutMs, end: 'close' });
}

async function ok(command: string, args: string[], cwd: string): Promise<RunResult> {
  const result = await run(command, args, cwd);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${result.code}:\n${result.stderr}${result.stdout}`);
  return result;
}

/** Packs the repository into `dir` (building dist/ through prepack) and returns the tarball's path. */
export async function packRepository(dir: string): Promise<string> {
  await ok('npm', ['pack', '--pack-destination', dir], REPO);
  const tarballs = (await readdir(dir)).filter((name) => name.endsWith('.tgz'));
  if (tarballs.length !== 1) throw new Error(`npm pack left ${tarballs.length} tarballs in ${dir}`);
  return join(dir, tarballs[0]!);
}

export type ProjectKind = 'commonjs' | 'module';

/** A fresh project in `dir` (`npm init -y`, plus `"type": "module"` for an ES-module one) with the tarball installed. */
export async function userProject(dir: string, kind: ProjectKind, tarball: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await ok('npm', ['init', '-y'], dir);
  if (kind === 'module') await ok('npm', ['pkg', 'set', 'type=module'], dir);
  await ok('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], dir);
  return dir;
}
