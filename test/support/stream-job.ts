/**
 * `dualrun stream run` as a real child process, the way a user (or a crash test) runs it: its exit code
 * and everything it printed. Tests kill what is still running with `killStreamJobs` in an afterAll.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/dualrun.js', import.meta.url));
const running = new Set<ChildProcess>();

export interface StreamJob {
  child: ChildProcess;
  exit: Promise<number | null>;
  /** Its stdout and stderr so far. */
  log: () => string;
}

/** Starts `dualrun stream run <args>`; `logLevel` is DUALRUN_LOG_LEVEL (info shows "stream runner started"). */
export function startStreamJob(args: string[], { logLevel = 'warn' }: { logLevel?: string } = {}): StreamJob {
  const child = spawn(process.execPath, [bin, 'stream', 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DUALRUN_LOG_LEVEL: logLevel } });
  running.add(child);
  let log = '';
  child.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    running.delete(child);
    resolve(code);
  }));
  return { child, exit, log: () => log };
}

/** SIGKILLs every job still running (a failed test's). */
export function killStreamJobs(): void {
  for (const child of running) child.kill('SIGKILL');
}
