// The CLI's contract with scripts and CI: help texts, and exit codes with one clear message.
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { ExitCode } from '../../src/errors.ts';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (text) => (out += `${text}\n`), err: (text) => (err += `${text}\n`) });
  return { code, out, err };
}

describe('dualrun CLI', () => {
  it('--help lists the commands and the exit codes', async () => {
    const { code, out } = await run('--help');
    expect(code).toBe(ExitCode.ok);
    expect(out).toContain('kafka');
    expect(out).toContain('Exit codes:');
  });

  it('no command prints the overview and exits 2', async () => {
    const { code, out } = await run();
    expect(code).toBe(ExitCode.usage);
    expect(out).toContain('Usage: dualrun <command>');
  });

  it('an unknown command exits 2 and names the known ones', async () => {
    const { code, err } = await run('frobnicate');
    expect(code).toBe(ExitCode.usage);
    expect(err).toContain('unknown command "frobnicate"');
    // Every helper adds a command to the registry; the message lists them all, kafka among them.
    expect(err).toMatch(/fix: run dualrun --help for the list: (\w+, )*kafka\b/);
  });

  it('a command --help prints its own help', async () => {
    const { code, out } = await run('kafka', '--help');
    expect(code).toBe(ExitCode.ok);
    expect(out).toContain('dualrun kafka start [--json]');
  });

  it('an unknown flag exits 2 and points at the help', async () => {
    const { code, err } = await run('kafka', 'status', '--colour');
    expect(code).toBe(ExitCode.usage);
    expect(err).toContain("Unknown option '--colour'");
    expect(err).toContain('see dualrun kafka --help');
  });

  it('an unknown kafka action exits 2', async () => {
    const { code, err } = await run('kafka', 'restart');
    expect(code).toBe(ExitCode.usage);
    expect(err).toContain('unknown kafka action "restart"');
  });

  it('bad configuration exits 3 naming the variable', async () => {
    const saved = process.env.DUALRUN_LOG_LEVEL;
    process.env.DUALRUN_LOG_LEVEL = 'chatty';
    try {
      const { code, err } = await run('kafka', 'status');
      expect(code).toBe(ExitCode.config);
      expect(err).toContain('config DUALRUN_LOG_LEVEL');
    } finally {
      if (saved === undefined) delete process.env.DUALRUN_LOG_LEVEL;
      else process.env.DUALRUN_LOG_LEVEL = saved;
    }
  });
});
