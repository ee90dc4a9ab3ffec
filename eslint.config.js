// Lint rules: typescript-eslint's recommended set, plus the layering rules from DESIGN.md section 3:
// src/ never imports the runners statically; the runners never import each other; no engine folder
// imports a domain; a domain (the shop, the examples) imports nothing of dualrun but 'dualrun' itself.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noDomain = { group: ['**/domains/**', '**/examples/**'], message: 'DESIGN.md section 3: the engine knows no domain; a domain reaches it only through the config (the CLI loads the default shop with import()).' };
// Tests beside the engine's code may use a domain (the shop) to drive it; the code may not.
const forbid = (dirs, { allowTypeImports = false, tests = false } = {}) => ({
  '@typescript-eslint/no-restricted-imports': [
    'error',
    { patterns: [...dirs.map((dir) => ({ group: [`**/${dir}/**`], allowTypeImports, message: `DESIGN.md section 3: this layer must not import ${dir}/.` })), ...(tests ? [] : [noDomain])] },
  ],
});

// A domain folder is a user of the public API: its own files (same folder), 'dualrun' and third-party packages only.
const publicApiOnly = {
  '@typescript-eslint/no-restricted-imports': [
    'error',
    { patterns: [{ group: ['../*', '../**'], message: "DESIGN.md section 3: a domain imports only what 'dualrun' exports (import … from 'dualrun'), never dualrun's files." }] },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'dualrun-report/**', 'coverage/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  { files: ['src/**/*.ts'], ignores: ['src/domains/**'], rules: forbid(['batch', 'streaming', 'compare']) },
  // The CLI wires the runners together: it loads them with import() only, and may name their types.
  { files: ['src/cli/**/*.ts'], rules: forbid(['batch', 'streaming', 'compare'], { allowTypeImports: true }) },
  { files: ['batch/**/*.ts'], rules: forbid(['streaming', 'compare']) },
  { files: ['streaming/**/*.ts'], rules: forbid(['batch', 'compare']) },
  { files: ['compare/**/*.ts'], rules: forbid(['batch', 'streaming']) },
  { files: ['streaming/**/*.test.ts'], rules: forbid(['batch', 'compare'], { tests: true }) },
  { files: ['src/**/*.test.ts'], rules: forbid(['batch', 'streaming', 'compare'], { tests: true }) },
  { files: ['batch/**/*.test.ts'], rules: forbid(['streaming', 'compare'], { tests: true }) },
  { files: ['compare/**/*.test.ts'], rules: forbid(['batch', 'streaming'], { tests: true }) },
  { files: ['src/domains/**/*.ts', 'examples/**/*.ts'], rules: publicApiOnly },
);
