import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The wall between browser and server code is enforced twice: tsconfig.browser.json has no Node
// types, and ESLint refuses the import outright. This proves the lint half holds.
describe('browser/server boundary', () => {
  const eslint = new ESLint({ cwd: process.cwd() });

  it('rejects an island that imports server code', async () => {
    const [result] = await eslint.lintText("import { validateContent } from '../server/content/validate.ts';\nexport const x = validateContent;\n", {
      filePath: 'src/islands/Leaky.tsx',
    });
    const messages = result?.messages.map((m) => m.message) ?? [];
    expect(messages.some((m) => m.includes('Browser code cannot import server code'))).toBe(true);
  });

  it('rejects a store that imports a Node built-in', async () => {
    const [result] = await eslint.lintText("import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", {
      filePath: 'src/stores/leaky-store.ts',
    });
    expect(result?.messages.some((m) => m.message.includes('Node built-ins'))).toBe(true);
  });

  it('lets server code import the shared lib', async () => {
    const [result] = await eslint.lintText("import { buildToc } from '../../lib/toc.ts';\nexport const x = buildToc;\n", {
      filePath: 'src/server/content/uses-lib.ts',
    });
    expect(result?.messages.filter((m) => m.ruleId === 'no-restricted-imports')).toEqual([]);
  });
});
