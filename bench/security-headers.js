'use strict';
/**
 * Micro-benchmark: security headers per request, koa-helmet as middleware (re-runs helmet's 13
 * promisified sub-middlewares each time) vs the precomputed list src/platform/security/headers.ts applies
 * (the same values, recorded once from koa-helmet at startup). Run after `npm run build`:
 *   node bench/security-headers.js
 */
const { IncomingMessage, ServerResponse } = require('node:http');
const { Socket } = require('node:net');
const koaHelmet = require('koa-helmet');
const { helmetOptions, securityHeaders, PERMISSIONS_POLICY } = require('../dist/platform/security/headers');

const req = new IncomingMessage(new Socket());
const res = new ServerResponse(req);
const ctx = { req, res };
const next = () => Promise.resolve();

const perRequest = koaHelmet(helmetOptions({ hstsPreload: false }));
const viaKoaHelmet = (c, n) => perRequest(c, () => (c.res.setHeader('Permissions-Policy', PERMISSIONS_POLICY), n()));
const precomputed = securityHeaders({ hstsPreload: false });

async function measure(name, mw, n) {
  for (let i = 0; i < 20_000; i++) await mw(ctx, next); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await mw(ctx, next);
  const ns = Number(process.hrtime.bigint() - t0) / n;
  return { name, ns };
}

(async () => {
  const n = 200_000;
  const rows = [];
  for (let round = 0; round < 3; round++) {
    rows.push(await measure('koa-helmet per request', viaKoaHelmet, n));
    rows.push(await measure('precomputed from koa-helmet', precomputed, n));
  }
  const best = (name) => Math.min(...rows.filter((r) => r.name === name).map((r) => r.ns));
  const a = best('koa-helmet per request');
  const b = best('precomputed from koa-helmet');
  console.log(`koa-helmet per request:      ${(a / 1000).toFixed(2)} µs/request`);
  console.log(`precomputed from koa-helmet: ${(b / 1000).toFixed(2)} µs/request (${(a / b).toFixed(1)}x faster)`);
})();
