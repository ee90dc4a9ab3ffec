#!/usr/bin/env node
// `npm run build` (npm pack and npm publish run it first, as prepack): compiles the TypeScript to dist/
// for the published package. The repository itself keeps running from the sources (tsx, vitest).
//  1. tsconfig.build.json: every runtime module as an ES module with its source map, in dist/ mirroring
//     the repository (src/cli/main.ts → dist/src/cli/main.js);
//  2. tsconfig.types.json: .d.ts files for the public API;
//  3. the files modules read relative to themselves, copied to the same place under dist/: the scenario
//     fixtures (src/scenario/load.ts reads ../../fixtures/ → dist/fixtures/) and every other non-TypeScript
//     file of the code folders (streaming/broker/pom.xml, log4j2.properties), READMEs left out.
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const CODE_DIRS = ['src', 'batch', 'streaming', 'compare'];

rmSync(dist, { recursive: true, force: true });
for (const project of ['tsconfig.build.json', 'tsconfig.types.json']) {
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, project)], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`build: tsc -p ${project} failed`);
    process.exit(1);
  }
}

cpSync(join(root, 'fixtures'), join(dist, 'fixtures'), { recursive: true });
let copied = 0;
for (const dir of CODE_DIRS) {
  for (const entry of readdirSync(join(root, dir), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || /\.(ts|md)$/.test(entry.name)) continue;
    const from = join(entry.parentPath, entry.name);
    cpSync(from, join(dist, relative(root, from)));
    copied += 1;
  }
}
console.log(`build: dist/ written (fixtures and ${copied} other file(s) beside the modules)`);
