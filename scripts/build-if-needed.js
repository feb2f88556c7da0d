#!/usr/bin/env node
// `npm start` on a fresh clone: compile once when dist/ is missing or older than src/.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, statSync, readdirSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}
const main = join(root, 'dist', 'main.js');
// A built image ships dist/ without src/: nothing to compare, nothing to build.
if (existsSync(join(root, 'src')) && (!existsSync(main) || statSync(main).mtimeMs < newest(join(root, 'src')))) {
  process.stderr.write('building dist/ (tsc)…\n');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', root], { stdio: 'inherit' });
}
