// Module hooks for the unit tests (registered by register.mjs): the sources import each other as
// `./name.js` (what the bundler and tsc resolve to `./name.ts`), so a missing `.js` next to a
// `.ts` resolves to the `.ts`, and a `.ts` file is loaded with its types stripped by esbuild.
// Only types are removed, one file at a time: the code under test is the sources as written,
// with an inline source map so that failures point at src/ lines.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

export async function resolve(specifier, context, nextResolve) {
  const { parentURL } = context;
  if (parentURL?.endsWith('.ts') && specifier.startsWith('.') && specifier.endsWith('.js')) {
    const ts = new URL(specifier.slice(0, -3) + '.ts', parentURL);
    if (!existsSync(fileURLToPath(new URL(specifier, parentURL))) && existsSync(fileURLToPath(ts))) {
      return { url: ts.href, shortCircuit: true };
    }
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const { code } = await transform(await readFile(path, 'utf8'), {
    loader: 'ts',
    format: 'esm',
    target: 'es2022',
    sourcemap: 'inline',
    sourcefile: path,
  });
  return { format: 'module', source: code, shortCircuit: true };
}
