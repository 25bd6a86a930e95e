// Lets the unit tests import the TypeScript sources (src/*.ts) themselves rather than the built
// dist/: `node --import ./test/loader/register.mjs --test test/unit/`. Node 20 cannot strip types
// itself, so the hooks (hooks.mjs) compile each .ts file with esbuild, already a dev dependency
// (no test loader package to install).
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
