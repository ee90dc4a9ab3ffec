// `dualrun generate` as a user runs it (the real bin in a child process): bad flags are refused with
// exit 2 and one message naming the flag, nothing written; an interrupted run leaves nothing in the way.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.ts';
import { runCli } from '../support/cli.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dualrun-generate-cli-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const generate = (out: string, ...extra: string[]) => runCli(['generate', '--out', out, '--orders', '20', '--customers', '3', '--seed', 's', ...extra]);

describe('dualrun generate CLI', () => {
  it('refuses a --start-date that is not in the calendar, as batch run --date does, and writes nothing', async () => {
    const out = join(root, 'feb30');
    const result = await generate(out, '--start-date', '2024-02-30');
    expect(result.code).toBe(ExitCode.usage);
    expect(result.stderr).toContain('error: --start-date expects a calendar date written YYYY-MM-DD, like 2024-06-03, got "2024-02-30"');
    expect(existsSync(out)).toBe(false);
    const month = await generate(join(root, 'month13'), '--start-date', '2024-13-01');
    expect(month.code).toBe(ExitCode.usage);
    expect(month.stderr).toContain('got "2024-13-01"');
    const leap = await generate(join(root, 'leap'), '--start-date', '2024-02-29', '--days', '1');
    expect(leap.code, leap.stderr).toBe(ExitCode.ok);
  });

  it('takes a negative number after a flag as its value, and judges it', async () => {
    const out = join(root, 'negative');
    const result = await runCli(['generate', '--out', out, '--orders', '-5', '--customers', '3', '--seed', 's']);
    expect(result.code).toBe(ExitCode.usage);
    expect(result.stderr).toBe('error: --orders expects a whole number of at least 1, got "-5"\n  fix: orders to place; for example --orders 1000\n');
    const missing = await runCli(['generate', '--out', out, '--orders', '--customers', '3', '--seed', 's']);
    expect(missing.stderr).toContain('error: dualrun generate: --orders needs a value (N), but the next argument is the flag --customers');
    expect(existsSync(out)).toBe(false);
  });

  it("shows another domain's flags and their value shapes, not the shop's", async () => {
    const config = fileURLToPath(new URL('../../examples/metering/dualrun.config.ts', import.meta.url));
    const listed = await runCli(['generate', '--config', config, '--list-options']);
    expect(listed.stdout).toMatch(/^metering: /);
    expect(listed.stdout).toMatch(/--readings +count/);
    expect(listed.stdout).not.toContain('--orders');
    const missing = await runCli(['generate', '--config', config, '--out', join(root, 'meters'), '--seed', 's', '--readings']);
    expect(missing.stderr).toContain('error: dualrun generate: --readings needs a value (N), and nothing follows it');
    const help = await runCli(['generate', '--help']);
    expect(help.stdout).not.toContain('--orders');
    expect(help.stdout).toContain('--list-options');
  });

  it('Ctrl-C or kill -9 while generating leaves nothing a rerun refuses', async () => {
    const bin = fileURLToPath(new URL('../../bin/dualrun.js', import.meta.url));
    const parent = join(root, 'interrupted');
    const out = join(parent, 'big');
    /** Starts a generate far too big to finish, and sends `signal` once it has written some orders. */
    const interrupt = async (signal: NodeJS.Signals): Promise<{ code: number | null; stderr: string }> => {
      const child = spawn(process.execPath, [bin, 'generate', '--out', out, '--orders', '50000000', '--customers', '1000', '--seed', 's'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const deadline = Date.now() + 30_000;
      while (!/\] [1-9]\d*\/50000000 orders/.test(stderr) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      child.kill(signal);
      return { code: await exited, stderr };
    };
    const stopped = await interrupt('SIGINT');
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toContain(`SIGINT: stopped; nothing was written to ${out}. Run the same command again to generate it.`);
    expect(await readdir(parent)).toEqual([]);
    // A kill -9 cannot clean up: what it leaves is hidden beside --out, and the rerun clears it.
    const killed = await interrupt('SIGKILL');
    expect(killed.code).toBe(null);
    expect(await readdir(parent)).toEqual(['.big.partial']);
    const rerun = await generate(out);
    expect(rerun.code, rerun.stderr).toBe(ExitCode.ok);
    expect(await readdir(parent)).toEqual(['big']);
    expect((await readdir(out)).sort()).toEqual(['README.md', 'customers.csv', 'expected-differences.json', 'fx_rates.csv', 'order_lines.csv', 'orders.csv', 'products.csv', 'scenario.json']);
  });
});
