'use strict';
/**
 * Where a request's instructions go, by function, JavaScript included: reads a callgrind dump kept by
 * `bench/instructions.js --keep` and the V8 code map the server wrote (--perf-basic-prof), and names
 * the JIT-compiled code callgrind only knows by address.
 *
 *   node bench/instructions-by-function.js <callgrind.out.1-01> </tmp/perf-PID.map> <requests> [--top 60] [--callers A,B] [--inclusive dist/] [--callees A,B] [--event I1mr]
 *
 * Prints instructions per request spent in each function itself (self cost), largest first;
 * `--callers` also lists who calls the functions whose names contain A, B … (for a V8 builtin such
 * as Builtins_KeyedLoadIC_Megamorphic, that is the JavaScript that made it slow); `--inclusive S`
 * lists functions whose names contain S by their cost including what they call, and `--callees A`
 * what the functions named like A call, and at what cost. `--event` ranks by another of the dump's
 * events instead of instructions (Ir): with a dump of `instructions.js --cache-sim --keep`, I1mr
 * (instruction-cache misses) names the code whose breadth costs time that instructions do not show.
 */
const fs = require('node:fs');

function parseArgs(argv) {
  const [dump, map, requests] = argv.slice(2, 5);
  if (!dump || !map || !requests) throw new Error('usage: instructions-by-function.js <callgrind dump> <perf map> <requests> [--top N] [--callers A,B]');
  const o = { dump, map, requests: Number(requests), top: 60, callers: [], callees: [], inclusive: undefined, event: 'Ir' };
  for (let i = 5; i < argv.length; i++) {
    if (argv[i] === '--top') o.top = Number(argv[++i]);
    else if (argv[i] === '--callers') o.callers = argv[++i].split(',');
    else if (argv[i] === '--inclusive') o.inclusive = argv[++i];
    else if (argv[i] === '--callees') o.callees = argv[++i].split(',');
    else if (argv[i] === '--event') o.event = argv[++i];
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return o;
}

/** V8's code map: sorted [start, size, name] ranges. Code can be moved or replaced: the later entry wins. */
function codeMap(file) {
  const ranges = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (m) ranges.push([parseInt(m[1], 16), parseInt(m[2], 16), m[3], ranges.length]);
  }
  ranges.sort((a, b) => a[0] - b[0] || a[3] - b[3]);
  return (addr) => {
    let lo = 0;
    let hi = ranges.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (ranges[mid][0] <= addr) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    for (let i = at; i >= 0 && i > at - 64; i--)
      if (addr < ranges[i][0] + ranges[i][1]) return ranges[i][2].replace(/^(JS:|LazyCompile:|Function:)?[*~^+-]?/, 'JS ');
    return undefined;
  };
}

/** Self cost per function and cost per caller → callee edge, from callgrind's text format. */
function readDump(file, nameOfAddress, event) {
  const names = new Map();
  const self = new Map();
  const edges = new Map();
  const name = (spec) => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(spec);
    if (!m) return spec;
    if (m[2] !== undefined) {
      const addr = /^0x([0-9a-f]+)$/.exec(m[2]);
      names.set(m[1], (addr && nameOfAddress(parseInt(addr[1], 16))) ?? m[2]);
    }
    return names.get(m[1]);
  };
  let fn;
  let call;
  let column = 0; // of the chosen event, among a cost line's numbers after the position
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('events: ')) {
      column = line.slice(8).trim().split(/\s+/).indexOf(event);
      if (column < 0) throw new Error(`the dump has no event ${event} (${line})`);
    } else if (line.startsWith('fn=')) fn = name(line.slice(3));
    else if (line.startsWith('cfn=')) call = { to: name(line.slice(4)), armed: false };
    else if (line.startsWith('calls=')) {
      if (call) call.armed = true;
    } else {
      // a position, then one number per event (trailing zeros left out)
      const m = /^(?:[+-]?\d+|\*)((?:\s+\d+)+)$/.exec(line);
      if (!m || fn === undefined) continue;
      const cost = Number(m[1].trim().split(/\s+/)[column] ?? 0);
      if (call?.armed) {
        const into = edges.get(call.to) ?? new Map();
        into.set(fn, (into.get(fn) ?? 0) + cost);
        edges.set(call.to, into);
        call = undefined;
      } else self.set(fn, (self.get(fn) ?? 0) + cost);
    }
  }
  return { self, edges };
}

function main() {
  const o = parseArgs(process.argv);
  const { self, edges } = readDump(o.dump, codeMap(o.map), o.event);
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const row = (cost, what) => `${(cost / o.requests).toFixed(0).padStart(8)}  ${String(what).slice(0, 160)}`;
  const what = o.event === 'Ir' ? 'instructions' : o.event;
  console.log(`${(total / o.requests / 1000).toFixed(1)} k ${what} per request; self cost by function:`);
  for (const [fn, cost] of [...self].sort((a, b) => b[1] - a[1]).slice(0, o.top)) console.log(row(cost, fn));
  if (o.inclusive !== undefined) {
    // self plus what each function's calls cost (recursive calls count twice: read as an upper bound)
    const inclusive = new Map(self);
    for (const callers of edges.values()) for (const [fn, cost] of callers) inclusive.set(fn, (inclusive.get(fn) ?? 0) + cost);
    console.log(`\ninclusive cost of functions whose names contain "${o.inclusive}":`);
    const rows = [...inclusive].filter(([fn]) => String(fn).includes(o.inclusive)).sort((a, b) => b[1] - a[1]);
    for (const [fn, cost] of rows.slice(0, o.top)) console.log(row(cost, fn));
  }
  for (const wanted of o.callees) {
    const out = new Map();
    for (const [callee, callers] of edges) for (const [fn, cost] of callers) if (String(fn).includes(wanted)) out.set(callee, (out.get(callee) ?? 0) + cost);
    console.log(`\nwhat functions whose names contain "${wanted}" call (cost including the callee's calls):`);
    for (const [fn, cost] of [...out].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(row(cost, fn));
  }
  for (const wanted of o.callers) {
    for (const [callee, callers] of edges) {
      if (!String(callee).includes(wanted)) continue;
      console.log(`\ncallers of ${callee}:`);
      for (const [fn, cost] of [...callers].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(row(cost, fn));
    }
  }
}

main();
