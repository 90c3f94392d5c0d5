import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ENTRY_POINTS = ['src/cli.ts', 'src/stack/main.ts', 'src/stack/worker-main.ts'];
// Reading the generator's own CPU use is allowed; I/O, env, argv and exit are not.
const PROCESS_IO = [{
  name: 'node:process',
  importNames: ['default', 'exit', 'exitCode', 'stdout', 'stderr', 'stdin', 'env', 'argv', 'on', 'once', 'kill', 'cwd', 'chdir'],
  message: 'Only src/cli.ts touches process I/O, env, argv and exit.',
}];
const TOOL_TO_SHOP = {
  regex: String.raw`(^|/)stack/(?!contract\.js$)`,
  message: 'The tool imports the reference shop only through src/stack/contract.js (its public face).',
};
/** Outside src/stack/ from a file `depth` folders below src/, except src/shared/. */
const shopToTool = (depth) => ({
  regex: `^${String.raw`\.\./`.repeat(depth)}(?!shared/)`,
  message: 'The shop imports nothing of the tool but src/shared/: it must run without the tool (its own entry point and image).',
});

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly',
        clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly',
        setImmediate: 'readonly', clearImmediate: 'readonly', Buffer: 'readonly',
        AbortController: 'readonly', AbortSignal: 'readonly', performance: 'readonly',
        structuredClone: 'readonly', TextDecoder: 'readonly', TextEncoder: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // House style 6: only the entry points (src/cli.ts, src/stack/main.ts for the shop, src/stack/worker-main.ts for its cluster workers) touch `process`; library code never prints.
    files: ['src/**/*.ts'],
    ignores: [...ENTRY_POINTS, 'src/**/*.test.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-globals': ['error',
        { name: 'process', message: 'Only src/cli.ts touches process; take I/O as arguments.' }],
      'no-restricted-imports': ['error', { paths: PROCESS_IO, patterns: [TOOL_TO_SHOP] }],
    },
  },
  // The shop and the tool meet only at src/stack/contract.ts; the shop imports nothing of the tool but src/shared/
  // (test/architecture.test.ts checks the whole import graph). The rule is repeated whole per group of files:
  // a later block replaces an earlier block's options for the same rule.
  {
    files: ['src/stack/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: PROCESS_IO, patterns: [shopToTool(1)] }] },
  },
  {
    files: ['src/stack/*/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: PROCESS_IO, patterns: [shopToTool(2)] }] },
  },
  {
    files: ENTRY_POINTS.filter((f) => f.startsWith('src/stack/')),
    rules: { 'no-restricted-imports': ['error', { patterns: [shopToTool(1)] }] },
  },
  {
    files: ['src/shared/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: PROCESS_IO,
        patterns: [{ regex: String.raw`^\.\./`, message: 'src/shared/ is a leaf both the tool and the shop import: it imports neither.' }],
      }],
    },
  },
  {
    files: ['src/cli.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [TOOL_TO_SHOP] }] },
  },
);
