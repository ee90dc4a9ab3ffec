/**
 * Start-up benchmark: `dualrun --help` and `dualrun compare --help` from the installed package (the
 * repository packed and installed into a fresh CommonJS project, as a user has it), beside `node -e 0`
 * measured in the same run, interleaved round by round: the median of BENCH_ROUNDS (default 21) runs
 * each, after 3 warm-up runs. Goal ≤ 200 ms (issue #16). For information, the repository's own bin,
 * which runs the sources through tsx.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, packRepository, userProject } from '../test/support/package.ts';
import { printFigure } from './report.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 21);
const root = await mkdtemp(join(tmpdir(), 'dualrun-startup-'));
try {
  const project = await userProject(join(root, 'project'), 'commonjs', await packRepository(root));
  const installed = join(project, 'node_modules', 'dualrun', 'bin', 'dualrun.js');
  const commands: Record<string, string[]> = {
    'node -e 0': ['-e', '0'],
    'dualrun --help': [installed, '--help'],
    'dualrun compare --help': [installed, 'compare', '--help'],
    'dualrun --help (sources, tsx)': [join(REPO, 'bin', 'dualrun.js'), '--help'],
  };
  const times = new Map<string, number[]>(Object.keys(commands).map((name) => [name, []]));
  for (let round = -3; round < rounds; round += 1) {
    for (const [name, args] of Object.entries(commands)) {
      const start = process.hrtime.bigint();
      const result = spawnSync(process.execPath, args, { cwd: project, stdio: 'ignore' });
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (result.status !== 0) throw new Error(`${name} exited ${result.status}`);
      if (round >= 0) times.get(name)!.push(ms);
    }
  }
  const median = (name: string) => {
    const sorted = [...times.get(name)!].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)]!;
  };
  const reference = median('node -e 0');
  for (const name of ['dualrun --help', 'dualrun compare --help', 'dualrun --help (sources, tsx)']) {
    const installedRun = !name.includes('sources');
    printFigure({ name: installedRun ? `${name} (installed package)` : name, ours: median(name), reference, referenceName: 'node -e 0', unit: 'ms', kind: 'time', ...(installedRun ? { goal: '≤ 200 ms' } : {}) });
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
