// Builds the library (dist/) and the settings page bundle (page/dist/).
// Usage: node scripts/build.mjs [--out DIR]   (DIR defaults to this package; check-dist uses a temp dir)
// The output must be a pure function of the sources: fixed options, no timestamps, no source maps
// with absolute paths, so that check-dist can compare it byte for byte.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outFlag = process.argv.indexOf('--out');
const out = outFlag > 0 ? resolve(process.argv[outFlag + 1]) : root;

const common = {
  absWorkingDir: root,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  charset: 'utf8',
  logLevel: 'warning',
  legalComments: 'eof',
};

const OUTPUTS = ['dist', 'page/dist'];

for (const dir of OUTPUTS) rmSync(join(out, dir), { recursive: true, force: true });

// The library: @twilio/voice-sdk stays an import for the app's bundler to resolve.
await build({
  ...common,
  entryPoints: ['src/softphone-presence.ts'],
  outfile: join(out, 'dist/softphone-presence.js'),
  external: ['@twilio/voice-sdk'],
});

// Type declarations next to it.
execFileSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json'), '--outDir', join(out, 'dist')],
  { stdio: 'inherit' },
);

// The settings page: the library and the Voice SDK in one file, served as /assets/settings.js.
mkdirSync(join(out, 'page/dist'), { recursive: true });
await build({
  ...common,
  entryPoints: ['page/src/settings.ts'],
  outfile: join(out, 'page/dist/settings.js'),
  minify: true,
  define: { 'process.env.NODE_ENV': '"production"' },
});

// The admin console (issue 30), served as /assets/admin.js: the org's directory, edited live.
await build({
  ...common,
  entryPoints: ['page/src/admin.ts'],
  outfile: join(out, 'page/dist/admin.js'),
  minify: true,
  define: { 'process.env.NODE_ENV': '"production"' },
});
