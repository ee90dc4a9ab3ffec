#!/usr/bin/env node
// The `dualrun` command. Installed from npm, it runs the compiled JavaScript in dist/ (`npm run build`,
// done by prepack), with no TypeScript loader at start-up. In a checkout of the repository (src/ is
// there: the package ships only dist/) it runs the TypeScript sources through tsx, so `npx dualrun`
// and `npm run demo` work right after `npm ci`, with no build.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const fromSources = existsSync(new URL('../src/cli/main.ts', import.meta.url));
if (fromSources) {
  const { register } = await import('tsx/esm/api');
  // The repository's tsconfig, wherever the command runs: its paths make `import … from 'dualrun'`
  // (the example shop) mean these sources, where the cwd's tsconfig (or none) would mean dist/.
  register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
}
// Before anything loads kafkajs: its read_committed filter leaks aborted transactions (see the module).
await import(fromSources ? '../src/kafkajs-fixes.ts' : '../dist/src/kafkajs-fixes.js');
const { main } = await import(fromSources ? '../src/cli/main.ts' : '../dist/src/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
// The command is done: a socket still open now (a Kafka client left connected, seen after a
// `demo --source cdc` on a loaded machine) would keep the process alive for good. Say so, and exit.
setTimeout(() => {
  process.stderr.write('dualrun: a connection was still open 10 s after the command finished; exiting anyway\n');
  process.exit();
}, 10_000).unref();
