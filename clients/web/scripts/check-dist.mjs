// Fails when the committed build outputs (dist/, page/dist/) differ from what the sources build to.
// Usage: node scripts/check-dist.mjs   (part of npm test; fix a failure with npm run build)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUTPUTS = ['dist', 'page/dist'];

function files(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const tmp = mkdtempSync(join(tmpdir(), 'softphone-web-check-'));
try {
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), '--out', tmp], { stdio: 'inherit' });
  const problems = [];
  for (const dir of OUTPUTS) {
    const built = new Set(files(join(tmp, dir)).map((f) => relative(tmp, f)));
    const committed = new Set(files(join(root, dir)).map((f) => relative(root, f)));
    for (const f of built) {
      if (!committed.has(f)) problems.push(`missing: ${f}`);
      else if (!readFileSync(join(tmp, f)).equals(readFileSync(join(root, f)))) problems.push(`differs: ${f}`);
    }
    for (const f of committed) if (!built.has(f)) problems.push(`not built from the sources: ${f}`);
  }
  if (problems.length > 0) {
    console.error(`check-dist: the committed build output is stale:\n  ${problems.join('\n  ')}\nrun: npm run build`);
    process.exit(1);
  }
  console.log(`check-dist: ${OUTPUTS.join(' and ')} match the sources`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
