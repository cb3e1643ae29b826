'use strict';
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const globals = require('globals');

module.exports = tseslint.config(
    { ignores: ['dist/**', 'node_modules/**', '.node-red-demo/**', 'test-artifacts/**', 'bench-results/**', 'nodes/**/*.html'] },
    js.configs.recommended,
    {
        files: ['**/*.ts'],
        extends: [tseslint.configs.recommended],
        rules: {
            '@typescript-eslint/no-explicit-any': 'off',
            '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
            '@typescript-eslint/no-floating-promises': 'off',
            // `const node = this` in a Node-RED node constructor is the idiom the runtime's own nodes use.
            '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['node'] }]
        }
    },
    {
        files: ['**/*.js'],
        ignores: ['resources/**'],
        languageOptions: { sourceType: 'commonjs', globals: { ...globals.node, ...globals.mocha } },
        rules: {
            'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }]
        }
    },
    {
        // The editor's shared scripts (resources/): plain browser scripts, loaded by the nodes' editor HTML.
        files: ['resources/**/*.js'],
        languageOptions: { sourceType: 'script', globals: { ...globals.browser } },
        rules: {
            'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }]
        }
    }
);
