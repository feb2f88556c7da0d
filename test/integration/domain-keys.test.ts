import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { Client, createTenant, domainEnv, K1, K2, K3, runCli, scratchDir, sql, type CreatedTenant } from '../helpers/domain';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startOtlpReceiver } from '../helpers/otlp-receiver';
import { startService, type ServiceHandle } from '../helpers/service';

const keyId = (hex: string) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex').slice(0, 8);
const PASSTHRU = '/webhooks/exotel/:credential/passthru';
type Call = { callSid: string; from: string };

/**
 * Key rotation end to end: data written under K1; the service restarted with K2 current and K1
 * previous still reads it; secrets:reencrypt moves everything to K2 (and phone hashes with it);
 * restarted with K2 alone, everything is still readable and searchable.
 */
describe('domain: secrets at rest and key rotation', function () {
  this.timeout(90_000);
  let tdb: TestDatabase;
  let dir: ReturnType<typeof scratchDir>;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let acme: CreatedTenant;
  let accessUnderK1: string;
  const envWith = (current: string, previous?: string) =>
    domainEnv(tdb.url, dir.path, { ENCRYPTION_KEY: current, ...(previous ? { ENCRYPTION_KEYS_PREVIOUS: previous } : {}) });

  /** Runs `fn` against a service started with `env`, then proves its requests were all traced and measured. */
  async function withService(env: Record<string, string>, fn: (api: Client, svc: ServiceHandle) => Promise<void>): Promise<void> {
    const svc = await startService({ ...env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    try {
      const api = new Client(svc);
      await fn(api, svc);
      await api.verifyTelemetry(receiver.spans);
    } finally {
      await svc.stop();
    }
  }
  const search = async (api: Client, token: string, phone: string) =>
    (await api.json<{ data: Call[] }>('GET', '/api/calls', `/api/calls?phone=${encodeURIComponent(phone)}`, { token })).body.data.map((c) => [
      c.callSid,
      c.from,
    ]);
  const me = (api: Client, token: string) => api.json<{ tenant: { exotel: { apiKey: string } } }>('GET', '/api/auth/me', '/api/auth/me', { token });

  before(async () => {
    [tdb, receiver] = await Promise.all([createTestDatabase('caly_dom_keys'), startOtlpReceiver()]);
    dir = scratchDir('caly-dom-keys');
  });
  after(async () => {
    await receiver?.close();
    await tdb?.drop();
    dir?.remove();
  });

  it('K1: secrets, caller numbers and the recording URL are written under K1', async () => {
    acme = await createTenant(envWith(K1), {
      name: 'Acme',
      exophones: ['+918047112345'],
      ownerEmail: 'owner@acme.test',
      extra: ['--exotel-api-key', 'ak-rotate-me-1234'],
    });
    await withService(envWith(K1), async (api) => {
      const path = `/webhooks/exotel/${acme.webhookCredential}/passthru?CallSid=k1call&CallFrom=09876500001&CallTo=08047112345`;
      expect((await api.req('GET', PASSTHRU, path)).status).to.equal(200);
      expect(
        (
          await api.req('POST', '/webhooks/exotel/:credential/status', `/webhooks/exotel/${acme.webhookCredential}/status`, {
            json: { CallSid: 'k1call', Status: 'completed', RecordingUrl: 'https://recordings.exotel.com/k1.mp3' },
          })
        ).status,
      ).to.equal(200);
      const t = await api.login('owner@acme.test', acme.ownerPassword);
      accessUnderK1 = t.accessToken;
      expect(await search(api, t.accessToken, '+919876500001')).to.deep.equal([['k1call', '+919876500001']]);
    });
    const rows = await sql<{ f: string; t: string; r: string; k: string }>(
      tdb.url,
      `SELECT c.from_enc AS f, c.to_enc AS t, c.recording_url_enc AS r, t.exotel_api_key_enc AS k FROM calls c JOIN tenants t ON t.id = c.tenant_id`,
    );
    for (const v of Object.values(rows[0]!)) expect(v.split('.')[1]).to.equal(keyId(K1));
  });

  it('K2 current + K1 previous: old data still reads and searches; new data is written under K2', async () => {
    await withService(envWith(K2, K1), async (api) => {
      // an access token signed before the rotation still verifies until it expires
      expect((await me(api, accessUnderK1)).status).to.equal(200);
      const t = await api.login('owner@acme.test', acme.ownerPassword);
      expect((await me(api, t.accessToken)).body.tenant.exotel.apiKey).to.equal('••••1234');
      expect(await search(api, t.accessToken, '09876500001')).to.deep.equal([['k1call', '+919876500001']]);
      const path = `/webhooks/exotel/${acme.webhookCredential}/passthru?CallSid=k2call&CallFrom=09876500002&CallTo=08047112345`;
      expect((await api.req('GET', PASSTHRU, path)).status).to.equal(200);
      expect(await search(api, t.accessToken, '+919876500002')).to.deep.equal([['k2call', '+919876500002']]);
    });
    const ids = await sql<{ sid: string; kid: string }>(tdb.url, `SELECT call_sid AS sid, split_part(from_enc, '.', 2) AS kid FROM calls ORDER BY call_sid`);
    expect(ids).to.deep.equal([
      { sid: 'k1call', kid: keyId(K1) },
      { sid: 'k2call', kid: keyId(K2) },
    ]);
  });

  it('secrets:reencrypt rewrites every value (and phone hash) under K2; a second run has nothing to do', async () => {
    const hashBefore = await sql<{ h: string }>(tdb.url, `SELECT encode(from_hash, 'hex') AS h FROM calls WHERE call_sid = 'k1call'`);
    const first = await runCli('cli/reencrypt.js', [], envWith(K2, K1));
    expect(first.code, first.stderr).to.equal(0);
    const report = JSON.parse(first.stdout) as { keyId: string; rewritten: Record<string, number>; total: number; unreadableTotal: number };
    expect(report.keyId).to.equal(keyId(K2));
    // The webhook events sealed under K1 (their verbatim payloads) are rewritten too.
    expect(report.rewritten).to.deep.equal({
      'tenants.exotel_api_key_enc': 1,
      'calls.from_enc': 1,
      'calls.to_enc': 1,
      'calls.recording_url_enc': 1,
      'webhook_events.raw_payload_enc': 2,
    });
    expect(report.unreadableTotal).to.equal(0);
    const second = JSON.parse((await runCli('cli/reencrypt.js', [], envWith(K2, K1))).stdout) as { total: number };
    expect(second.total).to.equal(0);
    const rows = await sql<{ kid: string }>(
      tdb.url,
      `SELECT split_part(v, '.', 2) AS kid FROM (SELECT unnest(ARRAY[from_enc, to_enc, recording_url_enc]) AS v FROM calls UNION ALL SELECT exotel_api_key_enc FROM tenants) x WHERE v IS NOT NULL`,
    );
    expect(new Set(rows.map((r) => r.kid))).to.deep.equal(new Set([keyId(K2)]));
    const hashAfter = await sql<{ h: string }>(tdb.url, `SELECT encode(from_hash, 'hex') AS h FROM calls WHERE call_sid = 'k1call'`);
    expect(hashAfter[0]!.h).not.to.equal(hashBefore[0]!.h); // recomputed under the K2-derived hash key
  });

  it('K2 alone: everything still reads and searches; tokens signed under K1 no longer verify', async () => {
    await withService(envWith(K2), async (api) => {
      expect((await me(api, accessUnderK1)).status).to.equal(401);
      const t = await api.login('owner@acme.test', acme.ownerPassword);
      expect((await me(api, t.accessToken)).body.tenant.exotel.apiKey).to.equal('••••1234');
      expect(await search(api, t.accessToken, '+919876500001')).to.deep.equal([['k1call', '+919876500001']]);
      expect(await search(api, t.accessToken, '+919876500002')).to.deep.equal([['k2call', '+919876500002']]);
    });
  });

  it('re-encrypting with a key set that cannot read the data fails loudly and changes nothing', async () => {
    const before = await sql(tdb.url, 'SELECT from_enc FROM calls ORDER BY call_sid');
    const r = await runCli('cli/reencrypt.js', [], envWith(K3));
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/could not be decrypted/);
    const unreadable = JSON.parse(r.stdout) as { unreadable: Record<string, number>; unreadableTotal: number };
    // API key + 3 values of k1call + 2 of k2call, and the 3 webhook events' verbatim payloads
    expect(unreadable.unreadable).to.deep.equal({
      'tenants.exotel_api_key_enc': 1,
      'calls.from_enc': 2,
      'calls.to_enc': 2,
      'calls.recording_url_enc': 1,
      'webhook_events.raw_payload_enc': 3,
    });
    expect(unreadable.unreadableTotal).to.equal(9);
    expect(await sql(tdb.url, 'SELECT from_enc FROM calls ORDER BY call_sid')).to.deep.equal(before);
  });

  it('a value under a key the service no longer holds is a named error, never a silent null or a generic 500', async () => {
    const original = (await sql<{ from_enc: string }>(tdb.url, `SELECT from_enc FROM calls WHERE call_sid = 'k1call'`))[0]!.from_enc;
    const parts = original.split('.');
    parts[1] = 'deadbeef'; // as if the key that sealed it had been dropped before re-encryption
    await sql(tdb.url, `UPDATE calls SET from_enc = $1 WHERE call_sid = 'k1call'`, [parts.join('.')]);
    try {
      await withService(envWith(K2), async (api, svc) => {
        const t = await api.login('owner@acme.test', acme.ownerPassword);
        const r = await api.json<{ error: { code: string; message: string } }>('GET', '/api/calls', '/api/calls?limit=100', { token: t.accessToken });
        expect(r.status).to.equal(500);
        expect(r.body.error.code).to.equal('ENCRYPTION_KEY_UNAVAILABLE');
        expect(r.body.error.message).to.match(/does not hold the key it was encrypted with/);
        const line = await svc.waitForLog((l) => l.level === 'error' && JSON.stringify(l).includes('deadbeef'), 5_000);
        expect(line, 'the log names the missing key id for the operator').to.exist;
      });
    } finally {
      await sql(tdb.url, `UPDATE calls SET from_enc = $1 WHERE call_sid = 'k1call'`, [original]);
    }
  });

  it('refuses to start with a malformed previous key', async () => {
    const r = await runCli('cli/reencrypt.js', [], { ...envWith(K2), ENCRYPTION_KEYS_PREVIOUS: `${K1},nothex` });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include('ENCRYPTION_KEYS_PREVIOUS');
    expect(r.stderr).not.to.include(K1);
  });
});
