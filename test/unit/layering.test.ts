// The layering DESIGN.md section 3 promises, enforced by the lint rules in eslint.config.js: no engine
// folder imports a domain, and a domain (the shop, an example project) imports nothing of dualrun but
// 'dualrun'. Each rule is tried on a file that breaks it and on one that keeps it.
import { ESLint } from 'eslint';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: root });

async function restrictedImports(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  return (result?.messages ?? []).filter((message) => message.ruleId === '@typescript-eslint/no-restricted-imports').map((message) => message.message);
}

describe('layering lint rules', () => {
  it.each(['streaming/tasks/x.ts', 'compare/x.ts', 'batch/x.ts', 'src/replay/x.ts', 'src/scenario/x.ts', 'src/pipeline/x.ts'])('%s may not import a domain', async (file) => {
    const depth = file.split('/').length - 1;
    const up = '../'.repeat(depth);
    const messages = await restrictedImports(file, `import { shop } from '${up}src/domains/shop/index.ts';\nexport const domain = shop;\n`);
    expect(messages).toEqual([expect.stringMatching(/the engine knows no domain/)]);
  });

  it('a domain imports dualrun, never its files', async () => {
    expect(await restrictedImports('src/domains/shop/x.ts', "import { toUnits } from '../../decimal.ts';\nexport const units = toUnits;\n")).toEqual([expect.stringMatching(/a domain imports only what 'dualrun' exports/)]);
    expect(await restrictedImports('examples/metering/x.ts', "import { field } from '../../src/model/fields.ts';\nexport const f = field;\n")).toEqual([expect.stringMatching(/a domain imports only what 'dualrun' exports/)]);
    expect(await restrictedImports('src/domains/shop/x.ts', "import { toUnits } from 'dualrun';\nimport { shop } from './domain.ts';\nexport const both = [toUnits, shop];\n")).toEqual([]);
  });
});
