/** Runs the real `dualrun` bin in a child process, as a user or a CI script would. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/dualrun.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000, cwd?: string): Promise<CliResult> {
  // Done at its exit: a broker it started (dualrun kafka start) may hold its output open long after.
  return runProcess(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, timeoutMs, end: 'exit', ...(cwd ? { cwd } : {}) });
}

/**
 * Runs a command (killed after `timeoutMs`) until it exits, or until its output closes too (`close`:
 * every byte it and its children wrote has been read).
 */
export function runProcess(command: string, args: string[], options: { env: NodeJS.ProcessEnv; timeoutMs: number; end: 'exit' | 'close'; cwd?: string }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'], ...(options.cwd ? { cwd: options.cwd } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', reject);
    child.on(options.end, (code: number | null) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}
