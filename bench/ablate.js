'use strict';
/**
 * Where the service's CPU per request goes, by taking parts away: copies the current build (dist/)
 * once per variant, removes one part from the copy (a step of the pipeline, the request span, the
 * OpenTelemetry context), and runs bench/run.js with every copy as a --compare server next to the
 * full service, interleaved in one run. Prints each variant's median CPU µs per request and its
 * difference from the full service. The table "Where the time goes, by ablation" in
 * bench/README.md comes from this script.
 *
 *   npm run build
 *   node bench/ablate.js                                   # every variant, ping, 2 × 6 s (~6 min)
 *   node bench/ablate.js --variants no-span,no-steps --only ping,info --reps 3 --duration 8
 *   node bench/ablate.js --variants no-steps --peers fastify-full,koa-otel   # the floor beside the peers
 *
 * The copies are measuring instruments, not builds to ship: a variant without the span or the
 * access log fails run.js's telemetry cross-check (the histogram or the log count is then 0); that
 * is expected, and reported as such rather than as an invalid run. Differences below ~4 µs are
 * within this machine's run-to-run noise: repeat (--reps) before reading anything into them.
 */
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const OUT = path.join(__dirname, 'results', 'ablate');

/** A step of app.ts's pipeline list, found by the call that builds it (compiled code keeps the names). */
const step = (marker) => ({ file: 'app.js', dropLinesWith: [marker] });

const VARIANTS = {
  'no-span': { file: 'app.js', dropLinesWith: ['requestSpan)('], why: 'the request span step (span, request id, duration histogram)' },
  'no-context': {
    file: 'platform/telemetry/request-span.js',
    replace: ['api_1.context.with(api_1.trace.setSpan(parent, span), rest)', 'rest()'],
    why: 'the span kept, the request not run inside its OpenTelemetry context (no AsyncLocalStorage)',
  },
  'no-steps': { file: 'app.js', dropSteps: true, why: 'every pipeline step (the router and the span stay)' },
  'no-span-no-steps': { file: 'app.js', dropSteps: true, dropLinesWith: ['requestSpan)('], why: 'Koa, the router and the loaded SDK only' },
  'no-access-log': { ...step('accessLog)('), why: 'the access line' },
  'no-audit-wait': { ...step('auditJournalWait)('), why: 'the audit journal wait' },
  'no-security-headers': { ...step('securityHeaders)('), why: 'helmet headers + Permissions-Policy' },
  'no-cors': { ...step('corsPolicy)('), why: 'the CORS step' },
  'no-anomaly-scan': { ...step('anomaly.requestScan'), why: 'the request-line anomaly scan' },
  'no-timeout': { ...step('requestTimeout)('), why: 'the request deadline' },
  'no-api-limit': { ...step("guardStep)('api rate limit'"), why: 'the API rate limit' },
  'no-body-steps': {
    file: 'app.js',
    dropLinesWith: ['parseBody)(', 'boundBodyShape)(', 'refuseUnstorableInput)(', 'rejectPrototypeKeys)(', 'anomaly.bodyScan,'],
    why: 'the five body steps (parse, shape bound, storable input, prototype keys, body scan)',
  },
  'no-auth-steps': { file: 'app.js', dropLinesWith: ['auth.claim,', 'auth.identify,'], why: 'the token claim and the identify step' },
  'no-outcome-steps': {
    file: 'app.js',
    dropLinesWith: ['countLoginAttempts)(', 'errorEnvelope)(', 'routeOnMethodNotAllowed)('],
    why: 'login-attempt count, error envelope, 405 route name',
  },
  'no-https-redirect': { ...step('httpsRedirect)('), why: 'the production https redirect' },
};

function parseArgs(argv) {
  const o = { variants: Object.keys(VARIANTS), pass: ['--servers', 'service'], only: 'ping', reps: '2', duration: '6', warmup: '2' };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    if (a === '--variants') o.variants = next().split(',');
    else if (a === '--only') o.only = next();
    else if (a === '--reps') o.reps = next();
    else if (a === '--duration') o.duration = next();
    else if (a === '--warmup') o.warmup = next();
    // peers measured in the same run, to set a variant beside what a user would pick instead
    else if (a === '--peers') o.pass = ['--servers', ['service', ...next().split(',')].join(',')];
    else throw new Error(`unknown option ${a} (see the header of bench/ablate.js)`);
  }
  for (const v of o.variants) if (!VARIANTS[v]) throw new Error(`unknown variant ${v}; known: ${Object.keys(VARIANTS).join(', ')}`);
  return o;
}

/** Comments out lines; each marker must match exactly one line, or the build changed and this must too. */
function dropLines(lines, markers, file) {
  for (const m of markers) {
    const hits = lines.map((l, i) => (l.includes(m) && !l.trimStart().startsWith('//') ? i : -1)).filter((i) => i >= 0);
    if (hits.length !== 1) throw new Error(`${file}: "${m}" matches ${hits.length} lines, expected 1 (update bench/ablate.js)`);
    lines[hits[0]] = `// ablated: ${lines[hits[0]]}`;
  }
}

/** Comments out every entry of the `pipeline([ … ])` list but the request span (no-span drops that). */
function dropSteps(lines, file) {
  const open = lines.findIndex((l) => l.includes('pipeline)(['));
  const close = lines.findIndex((l, i) => i > open && /^\s*\]\)\);?/.test(l));
  if (open < 0 || close < 0) throw new Error(`${file}: no pipeline([ … ]) list found (update bench/ablate.js)`);
  for (let i = open + 1; i < close; i++)
    if (!lines[i].trimStart().startsWith('//') && !lines[i].includes('requestSpan)(')) lines[i] = `// ablated: ${lines[i]}`;
}

function build(name, out = OUT) {
  const v = VARIANTS[name];
  const dir = path.join(out, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.cpSync(DIST, dir, { recursive: true });
  const file = path.join(dir, v.file);
  let text = fs.readFileSync(file, 'utf8');
  if (v.replace) {
    const [from, to] = v.replace;
    if (text.split(from).length !== 2) throw new Error(`${v.file}: "${from}" must occur once (update bench/ablate.js)`);
    text = text.replace(from, to);
  }
  const lines = text.split('\n');
  if (v.dropSteps) dropSteps(lines, v.file);
  if (v.dropLinesWith) dropLines(lines, v.dropLinesWith, v.file);
  fs.writeFileSync(file, lines.join('\n'));
  return dir;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function main() {
  const o = parseArgs(process.argv);
  if (!fs.existsSync(path.join(DIST, 'main.js'))) throw new Error('no dist/main.js: run `npm run build` first');
  const compare = o.variants.flatMap((name) => ['--compare', `${name}=${build(name)}`]);
  const args = [path.join(__dirname, 'run.js'), ...o.pass, '--only', o.only, '--reps', o.reps, '--duration', o.duration, '--warmup', o.warmup, ...compare];
  console.log(`ablate: ${o.variants.length} variants + the full service, ${o.reps} × ${o.duration} s each on ${o.only}; output at the end`);
  const run = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(
    run.stdout
      .split('\n')
      .filter((l) => l.startsWith('  rep ') || l.startsWith('load average'))
      .join('\n') + '\n',
  );
  const file = /results: (\S+\.json)/.exec(run.stdout)?.[1];
  if (!file) throw new Error(`bench/run.js wrote no results (exit ${run.status})`);
  const result = JSON.parse(fs.readFileSync(path.resolve(ROOT, file), 'utf8'));
  for (const group of o.only.split(',')) {
    const cpu = (server) => median(result.runs.filter((r) => r.group === group && r.server === server).map((r) => r.cpuUsPerReq));
    const full = cpu('service');
    const bare = result.runs.find((r) => r.group === group && r.server.startsWith('koa-bare')).server;
    console.log(`\n/api/${group}: full service ${full.toFixed(0)} µs/request; ${bare} ${cpu(bare).toFixed(0)}`);
    console.log('| variant | what is taken away | CPU µs/req | Δ against the full service |');
    console.log('|---|---|---:|---:|');
    for (const name of o.variants) {
      const c = cpu(`service@${name}`);
      console.log(`| ${name} | ${VARIANTS[name].why} | ${c.toFixed(0)} | ${(c - full).toFixed(0)} |`);
    }
    for (const peer of o.pass[1].split(',').slice(1)) {
      const c = cpu(peer);
      console.log(`| (peer) ${peer} | nothing: what a user would pick instead | ${c.toFixed(0)} | ${(c - full).toFixed(0)} |`);
    }
  }
  console.log(`\nraw: ${file}`);
}

if (require.main === module) main();
module.exports = { VARIANTS, build };
