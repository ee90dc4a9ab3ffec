#!/usr/bin/env node
// The `dualrun` command. Runs the TypeScript sources through tsx, so `npx dualrun` works right after `npm ci`.
import { register } from 'tsx/esm/api';

register();
// Before anything loads kafkajs: its read_committed filter leaks aborted transactions (see the module).
await import('../src/kafkajs-fixes.ts');
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
