'use strict';
/**
 * Reads a V8 .cpuprofile (from `node bench/run.js --cpu-prof`, written under
 * bench/results/profiles/) and prints where the busy time goes: self time by package or source
 * file, inclusive time by package (each package counted once per stack), and the top functions.
 *
 *   node bench/profile-summary.js bench/results/profiles/CPU.*.cpuprofile [--top 25] [--skip 2]
 *
 * --skip: seconds of start-up to leave out (default 2)
 */
const fs = require('node:fs');

function owner(url) {
  if (!url) return '(native/v8)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const dist = url.indexOf('/dist/');
  if (dist !== -1) return `caly:${url.slice(dist + 6)}`;
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '');
}

function summarise(file, top, skipS) {
  const p = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children || []) parent.set(c, n.id);
  // sample time deltas are in µs; attribute each delta to its sample's node
  // Skip start-up (module loading, schema compiling): only samples after `skipS` seconds count.
  const selfUs = new Map();
  let t = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] || 0;
    if (t < skipS * 1e6) continue;
    selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) || 0) + (p.timeDeltas[i] || 0));
  }
  let total = 0;
  let idle = 0;
  const selfByOwner = new Map();
  const inclByOwner = new Map();
  const selfByFn = new Map();
  const byCalyFrame = new Map();
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    const fn = n.callFrame.functionName;
    total += us;
    if (fn === '(idle)' || fn === '(program)') {
      if (fn === '(idle)') idle += us;
    }
    const own = fn === '(garbage collector)' ? '(gc)' : fn === '(idle)' ? '(idle)' : owner(n.callFrame.url);
    selfByOwner.set(own, (selfByOwner.get(own) || 0) + us);
    const key = `${fn || '(anonymous)'} ${owner(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
    selfByFn.set(key, (selfByFn.get(key) || 0) + us);
    // Charge each sample to the innermost frame of our own code on its stack: what each of our
    // middlewares costs including the library code it calls, excluding the middlewares after it.
    let caly = '(not under caly code)';
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur).callFrame;
      if (owner(f.url).startsWith('caly:')) {
        caly = `${f.functionName || '(anonymous)'} ${owner(f.url)}`;
        break;
      }
    }
    if (fn !== '(idle)') byCalyFrame.set(caly, (byCalyFrame.get(caly) || 0) + us);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const o = owner(byId.get(cur).callFrame.url);
      if (!seen.has(o)) {
        seen.add(o);
        inclByOwner.set(o, (inclByOwner.get(o) || 0) + us);
      }
    }
  }
  const busy = total - idle;
  const pct = (us) => `${((100 * us) / busy).toFixed(1)}%`.padStart(6);
  const list = (m, n) =>
    [...m.entries()]
      .filter(([k]) => k !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, n);
  console.log(`${file}\n  busy ${(busy / 1e6).toFixed(2)} s of ${(total / 1e6).toFixed(2)} s profiled (percentages are of busy time)`);
  console.log('  self time by owner:');
  for (const [k, v] of list(selfByOwner, top)) console.log(`    ${pct(v)}  ${k}`);
  console.log('  inclusive time by owner:');
  for (const [k, v] of list(inclByOwner, top)) if (k !== '(native/v8)') console.log(`    ${pct(v)}  ${k}`);
  console.log('  by innermost caly function on the stack (its own code + libraries it calls):');
  for (const [k, v] of list(byCalyFrame, top)) console.log(`    ${pct(v)}  ${k}`);
  console.log('  top functions (self):');
  for (const [k, v] of list(selfByFn, top)) console.log(`    ${pct(v)}  ${k}`);
}

const args = process.argv.slice(2);
const ti = args.indexOf('--top');
const top = ti === -1 ? 25 : Number(args.splice(ti, 2)[1]);
const si = args.indexOf('--skip');
const skip = si === -1 ? 2 : Number(args.splice(si, 2)[1]);
if (args.length === 0) {
  console.error('usage: node bench/profile-summary.js <file.cpuprofile>... [--top N]');
  process.exit(1);
}
for (const f of args) summarise(f, top, skip);
