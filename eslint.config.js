import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
    // House style 6: only the entry points (src/cli.ts, and src/stack/worker-main.ts for cluster workers) touch `process`; library code never prints.
    files: ['src/**/*.ts'],
    ignores: ['src/cli.ts', 'src/stack/worker-main.ts', 'src/**/*.test.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-globals': ['error',
        { name: 'process', message: 'Only src/cli.ts touches process; take I/O as arguments.' }],
      'no-restricted-imports': ['error', {
        // Reading the generator's own CPU use is allowed; I/O, env, argv and exit are not.
        paths: [{
          name: 'node:process',
          importNames: ['default', 'exit', 'exitCode', 'stdout', 'stderr', 'stdin', 'env', 'argv', 'on', 'once', 'kill', 'cwd', 'chdir'],
          message: 'Only src/cli.ts touches process I/O, env, argv and exit.',
        }],
      }],
    },
  },
);
