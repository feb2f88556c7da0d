#!/usr/bin/env node
// Idle memory of the service with everything on, in both database modes:
//   embedded: no DATABASE_URL, the service runs its own PostgreSQL under a fresh DATA_DIR
//   server:   DATABASE_URL pointing at the PostgreSQL server on 127.0.0.1:5432
// Reports the service process's RSS, and for the embedded server the PSS of its process tree
// (PSS splits shared memory among the processes that map it, so summing it does not count
// PostgreSQL's shared buffers once per backend as RSS would). Linux only (/proc).
//   node bench/memory.js [--idle 10]
'use strict';
const { execFileSync } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { createBenchDatabase, startServer, tmpWorkDir } = require('./lib');

const idleS = Number(process.argv[process.argv.indexOf('--idle') + 1] || 10);
const kb = (pid, field, file = 'status') => {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'));
  return m ? Number(m[1]) : 0;
};
const mb = (k) => Math.round(k / 1024);
const children = (pid) => {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
};

async function measure(label, env) {
  const workDir = tmpWorkDir();
  const srv = await startServer({ kind: 'service', env: { ...env, DATA_DIR: workDir }, workDir, label });
  try {
    // Warm every path once (routes, validators, the pool), then let it settle.
    for (let i = 0; i < 200; i++) await fetch(`${srv.url}/api/info`);
    await new Promise((r) => setTimeout(r, idleS * 1000));
    const row = { label, serviceRssMB: mb(kb(srv.pid, 'VmRSS')), servicePssMB: mb(kb(srv.pid, 'Pss', 'smaps_rollup')) };
    const pgPid = children(srv.pid).find((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('postgres'));
    if (pgPid) {
      const tree = [pgPid, ...children(pgPid)];
      row.postgresProcesses = tree.length;
      row.postgresPssMB = mb(tree.reduce((a, p) => a + kb(p, 'Pss', 'smaps_rollup'), 0));
    }
    return row;
  } finally {
    await srv.stop();
  }
}

(async () => {
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  // Everything on: tracing (spans made, export off), Redis-backed limiters, anomaly scan, audit.
  const common = {
    NODE_ENV: 'development',
    ENCRYPTION_KEY: undefined,
    LOG_LEVEL: 'info',
    METRICS_PORT: '0',
    REDIS_URL: 'redis://127.0.0.1:6379',
    OTEL_TRACES_EXPORTER: 'none',
  };
  const db = await createBenchDatabase();
  try {
    const rows = [await measure('embedded', { ...common, DATABASE_URL: undefined }), await measure('server', { ...common, DATABASE_URL: db.url })];
    console.log(`load average before: ${load}; idle ${idleS} s after 200 warm-up requests`);
    console.table(rows);
  } finally {
    await db.drop();
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
