// Lint rules: typescript-eslint's recommended set, plus the layering rule from DESIGN.md section 3
// (src/ never imports the runners statically; the runners never import each other).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const forbid = (dirs, { allowTypeImports = false } = {}) => ({
  '@typescript-eslint/no-restricted-imports': [
    'error',
    { patterns: dirs.map((dir) => ({ group: [`**/${dir}/**`], allowTypeImports, message: `DESIGN.md section 3: this layer must not import ${dir}/.` })) },
  ],
});

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
  { files: ['src/**/*.ts'], rules: forbid(['batch', 'streaming', 'compare']) },
  // The CLI wires the runners together: it loads them with import() only, and may name their types.
  { files: ['src/cli/**/*.ts'], rules: forbid(['batch', 'streaming', 'compare'], { allowTypeImports: true }) },
  { files: ['batch/**/*.ts'], rules: forbid(['streaming', 'compare']) },
  { files: ['streaming/**/*.ts'], rules: forbid(['batch', 'compare']) },
  { files: ['compare/**/*.ts'], rules: forbid(['batch', 'streaming']) },
);
