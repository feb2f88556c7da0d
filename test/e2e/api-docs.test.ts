import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import YAML from 'yaml';
import { ALL_ROUTES } from '../../src/modules/catalogue';
import { serviceDocument } from '../../src/modules/openapi-document';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { Client, createTenant, domainEnv, scratchDir } from '../helpers/domain';
import { ROOT, startService, type ServiceHandle } from '../helpers/service';

/** Debian's chromium package (.ci/run installs it); the test says so when it is missing. */
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
export const OUTPUT_DIR = join(ROOT, 'test-output', 'api-docs');

describe('API reference served by the running service', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let dir: ReturnType<typeof scratchDir>;
  let svc: ServiceHandle;
  let client: Client;

  before(async function () {
    this.timeout(120_000);
    db = await createTestDatabase('caly_docs');
    dir = scratchDir('caly-docs');
    // Both operator tokens set: their routes must then refuse a request without them.
    const env = domainEnv(db.url, dir.path, { ADMIN_TOKEN: 'admin-token-'.repeat(3), HEALTH_TOKEN: 'health-token-'.repeat(3) });
    await createTenant(env, { name: 'Docs', exophones: ['+918047112399'], ownerEmail: 'owner@docs.test' });
    svc = await startService(env);
    client = new Client(svc);
  });
  after(async () => {
    await svc?.stop();
    await db?.drop();
    dir?.remove();
  });

  it('/openapi.json and /openapi.yaml serve the generated document', async () => {
    const json = await client.json('GET', '/openapi.json', '/openapi.json');
    expect(json.status).to.equal(200);
    expect(json.body).to.deep.equal(JSON.parse(JSON.stringify(serviceDocument())));
    const yaml = await client.req('GET', '/openapi.yaml', '/openapi.yaml');
    expect(yaml.headers.get('content-type')).to.match(/^application\/yaml/);
    expect(YAML.parse(await yaml.text())).to.deep.equal(json.body);
  });

  it('/docs loads only its own assets, under a CSP that allows no inline script and no other origin', async () => {
    const page = await client.req('GET', '/docs', '/docs');
    const html = await page.text();
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).to.include("script-src 'self'").and.include("default-src 'none'").and.not.include('unsafe-eval');
    expect(csp.match(/script-src[^;]*/)![0]).to.not.include('unsafe-inline');
    expect(html).to.not.match(/<script>(?!<)/); // no inline script
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.every((r) => r.startsWith('/docs/assets/'))).to.equal(true);
    for (const r of refs) expect((await client.req('GET', '/docs/assets/:file', r)).status, r).to.equal(200);
    expect((await client.req('GET', '/docs/assets/:file', '/docs/assets/package.json')).status).to.equal(404);
    // The API keeps its strict policy.
    expect((await client.req('GET', '/api/ping', '/api/ping')).headers.get('content-security-policy')).to.equal("default-src 'none';frame-ancestors 'none'");
  });

  it('a body sent without Content-Type gets a 415 that says so, not a validation error about missing fields', async () => {
    // A byte body: fetch adds no Content-Type (a string body would get text/plain).
    const r = await client.json<{ error: { code: string; message: string } }>('POST', '/api/auth/login', '/api/auth/login', {
      body: Buffer.from(JSON.stringify({ email: 'owner@docs.test', password: 'x' })),
    });
    expect(r.status).to.equal(415);
    expect(r.body.error.message).to.match(/no Content-Type header.*application\/json/);
    const text = await client.json<{ error: { code: string; message: string } }>('POST', '/api/auth/login', '/api/auth/login', {
      body: 'email=a',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).to.equal(415);
    expect(text.body.error.message).to.include('text/plain');
  });

  it('each route enforces the security it declares: 401 without credentials when secured, never 401 when public', async () => {
    const fill = (path: string) =>
      path.replace(':id', '7d4f2c1a-0b9e-4e8f-8a3d-2c6b1f0e9a55').replace(':credential', 'not-a-credential-0123456789').replace(':file', 'init.js');
    const wrong: string[] = [];
    for (const d of ALL_ROUTES) {
      const r = await client.req(d.method, d.path, fill(d.path));
      await r.arrayBuffer();
      const secured = d.security.length > 0;
      if (secured !== (r.status === 401)) wrong.push(`${d.method} ${d.path}: declared ${secured ? d.security.join('|') : 'public'}, answered ${r.status}`);
    }
    expect(wrong).to.deep.equal([]);
  });

  it('renders every route group in headless Chromium with no console error and no blocked resource', async function () {
    if (!CHROMIUM) {
      console.log("      skipped: no chromium binary (/usr/bin/chromium); .ci/run installs Debian's chromium package");
      this.skip();
    }
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.text().includes('Content Security Policy')) problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('requestfailed', (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
      page.on('response', (r) => {
        if (r.status() >= 400) problems.push(`${r.status()}: ${r.url()}`);
      });
      page.on('request', (r) => {
        if (!r.url().startsWith(svc.url) && !r.url().startsWith('data:')) problems.push(`left the service: ${r.url()}`);
      });
      await page.goto(`${svc.url}/docs`, { waitUntil: 'networkidle' });
      await page.waitForSelector('.opblock-tag', { timeout: 30_000 });
      const groups = await page.$$eval('.opblock-tag', (els) => els.map((e) => e.getAttribute('data-tag')));
      const tags = [...new Set(ALL_ROUTES.map((d) => d.tag))];
      expect(groups).to.have.members(tags);
      const operations = await page.$$eval('.opblock', (els) => els.length);
      expect(operations).to.equal(ALL_ROUTES.length);
      mkdirSync(OUTPUT_DIR, { recursive: true });
      await page.screenshot({ path: join(OUTPUT_DIR, 'docs.png'), fullPage: true });
      expect(problems).to.deep.equal([]);
    } finally {
      await browser.close();
    }
  });
});
