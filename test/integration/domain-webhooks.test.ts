import { join } from 'node:path';
import { request } from 'node:http';
import { expect } from 'chai';
import { BODY_MAX_DEPTH, inspectBody, inspectRequestLine } from '../../src/platform/security/anomaly/inspect';
import { auditRows, auditSettled, Client, createTenant, domainEnv, runCli, scratchDir, sql, type CreatedTenant } from '../helpers/domain';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startOtlpReceiver } from '../helpers/otlp-receiver';
import { scrape, startService, type ServiceHandle } from '../helpers/service';

const PASSTHRU = '/webhooks/exotel/:credential/passthru';
const STATUS = '/webhooks/exotel/:credential/status';

/** What Exotel's Passthru applet sends (exotel-webhooks.md §1): current and older field names. */
const passthruCurrent = (sid: string) =>
  new URLSearchParams({
    CallSid: sid,
    CallFrom: '09876543210',
    CallTo: '08047112345',
    Direction: 'incoming',
    Created: 'Sat, 28 Nov 2026 10:00:00',
    DialCallDuration: '0',
    StartTime: '2026-11-28 10:00:00',
    EndTime: '1970-01-01 05:30:00',
    CurrentTime: '2026-11-28 10:00:04',
    CallType: 'call-attempt',
    digits: '"1234"',
    flow_id: '236545',
  }).toString();
/** Older revision: From/To, a `+` that was not percent-encoded (arrives as a space), Stream[...] keys. */
const passthruLegacyWithStream = (sid: string) =>
  `CallSid=${sid}&From=+919812345678&To=08047112345&Direction=inbound&flow_id=77&Stream%5BStreamSID%5D=st_${sid}&Stream%5BStatus%5D=completed&Stream%5BDuration%5D=42&Stream%5BStreamUrl%5D=wss%3A%2F%2Fvoice.caly.test%2Faudio%3FcallId%3D1&Stream%5BRecordingUrl%5D=https%3A%2F%2Frecordings.exotel.com%2Fs.mp3&Stream%5BDisconnectedBy%5D=user`;
/** AgentStream variant: the stream block as one JSON string in `Stream=`. */
const passthruStreamJson = (sid: string) =>
  new URLSearchParams({
    CallSid: sid,
    From: '+919812345679',
    To: '+918047112345',
    Direction: 'inbound',
    Stream: JSON.stringify({ StreamSID: 'js1', Status: 'completed', Duration: '7', StreamUrl: 'wss://voice.caly.test/a' }),
  }).toString();

/** StatusCallback (exotel-webhooks.md §2) with the extra fields of StatusCallbackEvents=terminal. */
const statusJson = (sid: string) => ({
  CallSid: sid,
  EventType: 'terminal',
  Status: 'completed',
  DateCreated: '2026-11-28 10:00:00',
  DateUpdated: '2026-11-28 10:05:00',
  RecordingUrl: `https://recordings.exotel.com/exotelrecordings/acme/${sid}.mp3`,
  From: '09876543210',
  To: '08047112345',
  PhoneNumberSid: '08047112345',
  StartTime: '2026-11-28 10:00:01',
  EndTime: '2026-11-28 10:04:59',
  ConversationDuration: 285,
  Direction: 'inbound',
  CustomField: 'order=42;lang=hi',
  Legs: [{ OnCallDuration: 285, Status: 'completed', AnsweredBy: 'HUMAN' }],
});

describe('domain: Exotel webhooks', function () {
  this.timeout(60_000);
  let tdb: TestDatabase;
  let dir: ReturnType<typeof scratchDir>;
  let env: Record<string, string>;
  let svc: ServiceHandle;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let api: Client;
  let acme: CreatedTenant;
  let branchB: CreatedTenant;
  let fenced: CreatedTenant;
  let fencedOk: CreatedTenant;
  let ownerToken: string;
  const passthru = (t: CreatedTenant) => `/webhooks/exotel/${t.webhookCredential}/passthru`;
  const status = (t: CreatedTenant) => `/webhooks/exotel/${t.webhookCredential}/status`;
  const callBySid = async (sid: string) => (await sql(tdb.url, 'SELECT * FROM calls WHERE call_sid = $1', [sid]))[0];

  before(async function () {
    this.timeout(120_000);
    [tdb, receiver] = await Promise.all([createTestDatabase('caly_dom_hooks'), startOtlpReceiver()]);
    dir = scratchDir('caly-dom-hooks');
    env = domainEnv(tdb.url, dir.path);
    [acme, branchB, fenced, fencedOk] = await Promise.all([
      createTenant(env, { name: 'Acme', exophones: ['+918047112345', '+918047112300'], ownerEmail: 'owner@acme.test' }),
      createTenant(env, { name: 'Branch B', exophones: ['+918047112399'], ownerEmail: 'owner@branchb.test', extra: ['--passthru-response', '302'] }),
      createTenant(env, { name: 'Fenced', exophones: ['+918047110001'], ownerEmail: 'owner@fenced.test', extra: ['--webhook-allow', '10.0.0.0/8'] }),
      createTenant(env, {
        name: 'Fenced OK',
        exophones: ['+918047110002'],
        ownerEmail: 'owner@fencedok.test',
        extra: ['--webhook-allow', '127.0.0.0/8', '--webhook-allow', '::1/128'],
      }),
    ]);
    svc = await startService({ ...env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    api = new Client(svc);
    ownerToken = (await api.login('owner@acme.test', acme.ownerPassword)).accessToken;
  });
  after(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.drop();
    dir?.remove();
  });

  describe('Passthru (GET, query parameters)', () => {
    it('creates the call from CallFrom/CallTo, quoted digits and IST times; answers 200', async () => {
      const res = await api.req('GET', PASSTHRU, `${passthru(acme)}?${passthruCurrent('pt0001')}`);
      expect(res.status).to.equal(200);
      const call = await callBySid('pt0001');
      expect(call).to.include({ tenant_id: acme.tenantId, direction: 'inbound', status: 'in-progress', exophone: '+918047112345' });
      expect((call!.started_at as Date).toISOString()).to.equal('2026-11-28T04:30:00.000Z');
      expect(call!.ended_at).to.equal(null); // the documented 1970-01-01 05:30:00 placeholder is ignored
      expect(call!.exotel).to.deep.include({ digits: '1234', callType: 'call-attempt', flowId: '236545' });
      const started = await auditRows(tdb.url, `event_type = 'CALL_STARTED' AND resource_id = $1`, [call!.id]);
      expect(started[0]!.tenant_id).to.equal(acme.tenantId);
    });

    it('an Exotel retry of the same Passthru creates nothing twice and still gets 200', async () => {
      for (let i = 0; i < 2; i++) expect((await api.req('GET', PASSTHRU, `${passthru(acme)}?${passthruCurrent('pt0001')}`)).status).to.equal(200);
      expect(await sql(tdb.url, `SELECT 1 FROM calls WHERE call_sid = 'pt0001'`)).to.have.length(1);
      expect(await sql(tdb.url, `SELECT 1 FROM webhook_events WHERE call_sid = 'pt0001'`)).to.have.length(1);
      const call = await callBySid('pt0001');
      await auditSettled(api.svc.metricsUrl);
      expect(await auditRows(tdb.url, `event_type = 'CALL_STARTED' AND resource_id = $1`, [call!.id])).to.have.length(1);
    });

    it('legacy From/To with a bare "+", Stream[...] bracket keys, and JSON in Stream=', async () => {
      expect((await api.req('GET', PASSTHRU, `${passthru(acme)}?${passthruLegacyWithStream('pt0002')}`)).status).to.equal(200);
      expect((await api.req('GET', PASSTHRU, `${passthru(acme)}?${passthruStreamJson('pt0003')}`)).status).to.equal(200);
      const a = await callBySid('pt0002');
      // Stream URLs are access URLs: stored encrypted like the recording URL, reported as present, never returned.
      expect((a!.exotel as { stream: Record<string, string> }).stream).to.deep.equal({
        StreamSID: 'st_pt0002',
        Status: 'completed',
        Duration: '42',
        DisconnectedBy: 'user',
      });
      const b = await callBySid('pt0003');
      expect((b!.exotel as { stream: Record<string, string> }).stream).to.deep.equal({ StreamSID: 'js1', Status: 'completed', Duration: '7' });
      expect(JSON.stringify([a, b])).not.to.match(/wss:|recordings\.exotel\.com\/s\.mp3/);
      const sealed = await sql<{ stream_urls_enc: string; exotel: unknown }>(
        tdb.url,
        `SELECT stream_urls_enc, exotel FROM calls WHERE call_sid IN ('pt0002', 'pt0003')`,
      );
      for (const r of sealed) {
        expect(r.stream_urls_enc).to.be.a('string').and.not.include('wss');
        expect(JSON.stringify(r.exotel)).not.to.include('wss:');
      }
      // "+919812345678" arrived as " 919812345678": still the same, searchable number
      const found = await api.json<{ data: Array<{ callSid: string; from: string }> }>('GET', '/api/calls', '/api/calls?phone=%2B919812345678', {
        token: ownerToken,
      });
      expect(found.body.data.map((c) => [c.callSid, c.from])).to.deep.equal([['pt0002', '+919812345678']]);
    });

    it('POST Passthru works too, and a tenant whose rule says 302 gets 302 (choice B)', async () => {
      expect((await api.req('POST', PASSTHRU, passthru(acme), { form: Object.fromEntries(new URLSearchParams(passthruCurrent('pt0004'))) })).status).to.equal(
        200,
      );
      const b = await api.req('GET', PASSTHRU, `${passthru(branchB)}?CallSid=pt0005&CallFrom=09876500000&CallTo=08047112399`);
      expect(b.status).to.equal(302);
      expect(b.headers.get('location')).to.equal(null);
      // retried: same branch again, nothing new
      expect((await api.req('GET', PASSTHRU, `${passthru(branchB)}?CallSid=pt0005&CallFrom=09876500000&CallTo=08047112399`)).status).to.equal(302);
      expect(await sql(tdb.url, `SELECT 1 FROM calls WHERE call_sid = 'pt0005'`)).to.have.length(1);
    });

    it('with no User-Agent at all (server to server): served, and no anomaly recorded', async () => {
      const path = `${passthru(acme)}?${passthruCurrent('pt0006')}`;
      const { status: code, requestId } = await new Promise<{ status: number; requestId: string }>((resolvePromise, reject) => {
        const req = request(`${svc.url}${path}`, { method: 'GET' }, (res) => {
          res.resume();
          res.on('end', () => resolvePromise({ status: res.statusCode!, requestId: String(res.headers['x-request-id']) }));
        });
        req.on('error', reject);
        req.end();
      });
      api.sent.push({ method: 'GET', route: PASSTHRU, requestId, status: code });
      expect(code).to.equal(200);
    });
  });

  describe('StatusCallback (POST)', () => {
    it('JSON: ends the call with duration, legs, custom field, recording; CALL_ENDED and RECORDING_RECEIVED once each', async () => {
      const r = await api.req('POST', STATUS, status(acme), { json: statusJson('pt0001') });
      expect(r.status).to.equal(200);
      const call = await callBySid('pt0001');
      expect(call).to.include({ status: 'completed', duration_s: 285 });
      expect((call!.ended_at as Date).toISOString()).to.equal('2026-11-28T04:34:59.000Z');
      expect(call!.exotel).to.deep.include({
        customField: 'order=42;lang=hi',
        lastEventType: 'terminal',
        legs: [{ OnCallDuration: '285', Status: 'completed', AnsweredBy: 'HUMAN' }],
      });
      expect(call!.recording_url_enc).to.match(/^v1\./); // Exotel's URL may carry access parameters: encrypted
      // Exotel retries up to twice: nothing happens twice
      for (let i = 0; i < 2; i++) expect((await api.req('POST', STATUS, status(acme), { json: statusJson('pt0001') })).status).to.equal(200);
      await new Promise((r2) => setTimeout(r2, 300));
      expect(await auditRows(tdb.url, `event_type = 'CALL_ENDED' AND resource_id = $1`, [call!.id])).to.have.length(1);
      expect(await auditRows(tdb.url, `event_type = 'RECORDING_RECEIVED' AND resource_id = $1`, [call!.id])).to.have.length(1);
      const view = await api.json<{ recording: { exotel: boolean }; status: string }>('GET', '/api/calls/:id', `/api/calls/${call!.id}`, { token: ownerToken });
      expect(view.body.recording.exotel).to.equal(true);
      expect(JSON.stringify(view.body)).not.to.include('recordings.exotel.com'); // reported present, never returned
    });

    it('urlencoded: a busy call that Passthru never saw is created and ended', async () => {
      const form = {
        CallSid: 'sc0002',
        Status: 'busy',
        DateUpdated: '2026-11-28 11:00:00',
        RecordingUrl: '',
        From: '+919800000002',
        To: '08047112300',
        Direction: 'outbound-api',
        'Legs[0][Status]': 'busy',
        'Legs[0][AnsweredBy]': 'NA',
        'Legs[0][OnCallDuration]': '0',
      };
      expect((await api.req('POST', STATUS, status(acme), { form })).status).to.equal(200);
      const call = await callBySid('sc0002');
      expect(call).to.include({ status: 'busy', direction: 'outbound-api', exophone: '+918047112300', recording_url_enc: null });
      expect((call!.exotel as { legs: unknown }).legs).to.deep.equal([{ Status: 'busy', AnsweredBy: 'NA', OnCallDuration: '0' }]);
      const events = await auditRows(tdb.url, `resource_id = $1 AND event_type IN ('CALL_STARTED', 'CALL_ENDED')`, [call!.id], 2);
      expect(events.map((e) => e.event_type)).to.have.members(['CALL_STARTED', 'CALL_ENDED']);
    });

    it('multipart/form-data: fields read with bounds; Legs as a JSON string', async () => {
      const fd = new FormData();
      for (const [k, v] of Object.entries({
        CallSid: 'sc0003',
        Status: 'no-answer',
        DateUpdated: '2026-11-28 12:00:00',
        From: '09800000003',
        To: '+918047112345',
        Legs: JSON.stringify([{ OnCallDuration: 0, Status: 'no-answer', AnsweredBy: 'NA' }]),
      }))
        fd.append(k, v);
      expect((await api.req('POST', STATUS, status(acme), { body: fd })).status).to.equal(200);
      const call = await callBySid('sc0003');
      expect(call).to.include({ status: 'no-answer' });
      expect((call!.exotel as { legs: unknown }).legs).to.deep.equal([{ OnCallDuration: '0', Status: 'no-answer', AnsweredBy: 'NA' }]);
      // an oversized multipart body is refused while reading (BODY_LIMIT_BYTES = 100 KiB)
      const big = new FormData();
      big.append('CallSid', 'sc0004');
      for (let i = 0; i < 10; i++) big.append(`f${i}`, 'x'.repeat(15_000));
      expect((await api.req('POST', STATUS, status(acme), { body: big })).status).to.equal(413);
      expect(await callBySid('sc0004')).to.equal(undefined);
    });

    it('a status for a known call needs no numbers; a late "ringing" does not reopen an ended call', async () => {
      expect(
        (
          await api.req('POST', STATUS, status(acme), {
            json: { CallSid: 'pt0001', Status: 'ringing', DateUpdated: '2026-11-28 10:06:00', RecordingUrl: null },
          })
        ).status,
      ).to.equal(200);
      expect((await callBySid('pt0001'))!.status).to.equal('completed');
    });
  });

  describe('refusals', () => {
    it('unknown credential → 401 (audited), malformed credential → 401, nothing stored', async () => {
      const unknown = `/webhooks/exotel/${'A'.repeat(43)}/status`;
      const r = await api.json<{ error: { code: string } }>('POST', STATUS, unknown, { json: statusJson('x0001') });
      expect(r.status).to.equal(401);
      expect(r.body.error.code).to.equal('AUTHENTICATION_ERROR');
      expect((await api.req('GET', PASSTHRU, `/webhooks/exotel/short/passthru?CallSid=x0002`)).status).to.equal(401);
      expect(await sql(tdb.url, `SELECT 1 FROM calls WHERE call_sid LIKE 'x000%'`)).to.have.length(0);
      const rows = await auditRows(tdb.url, `event_type = 'ACCESS_DENIED' AND resource_type = 'webhook'`, [], 2);
      expect(rows.map((x) => (x.metadata as { reason: string }).reason)).to.include('unknown_credential');
    });

    it("a number that is not the tenant's ExoPhone → 404 (audited), even another tenant's ExoPhone", async () => {
      const r = await api.req('GET', PASSTHRU, `${passthru(acme)}?CallSid=x0003&CallFrom=09876543210&CallTo=08047112399`);
      expect(r.status).to.equal(404);
      expect(await sql(tdb.url, `SELECT 1 FROM calls WHERE call_sid = 'x0003'`)).to.have.length(0);
      expect(await sql(tdb.url, `SELECT 1 FROM webhook_events WHERE call_sid = 'x0003'`)).to.have.length(0);
      const rows = await auditRows(tdb.url, `event_type = 'INTEGRATION_FAILED' AND tenant_id = $1`, [acme.tenantId]);
      expect((rows[0]!.metadata as { reason: string }).reason).to.equal('unknown_exophone');
    });

    it('missing or malformed CallSid → 400 in the envelope', async () => {
      const r = await api.json<{ error: { code: string; details: Array<{ path: string }> } }>(
        'GET',
        PASSTHRU,
        `${passthru(acme)}?CallFrom=0987&CallTo=08047112345`,
      );
      expect(r.status).to.equal(400);
      expect(r.body.error.details[0]!.path).to.equal('/query/CallSid');
      expect((await api.req('POST', STATUS, status(acme), { json: { CallSid: "x'; DROP TABLE calls;--", Status: 'completed' } })).status).to.equal(400);
      expect((await api.req('POST', STATUS, status(acme), { json: [1, 2] })).status).to.equal(400);
    });

    it('IP allowlist: outside → 403 (audited SECURITY_ALERT); inside → served', async () => {
      expect((await api.req('GET', PASSTHRU, `${passthru(fenced)}?CallSid=f0001&CallFrom=09876543210&CallTo=08047110001`)).status).to.equal(403);
      expect((await api.req('GET', PASSTHRU, `${passthru(fencedOk)}?CallSid=f0002&CallFrom=09876543210&CallTo=08047110002`)).status).to.equal(200);
      const rows = await auditRows(tdb.url, `event_type = 'ACCESS_DENIED' AND tenant_id = $1`, [fenced.tenantId]);
      expect(rows[0]!.outcome).to.equal('SECURITY_ALERT');
    });

    it('the credential rotates: the old URL stops working at once, the new one works', async () => {
      const r = await runCli('cli/tenants.js', ['rotate-webhook', '--json', '--tenant', branchB.tenantId], env);
      expect(r.code, r.stderr).to.equal(0);
      const fresh = JSON.parse(r.stdout) as { webhookCredential: string };
      expect((await api.req('GET', PASSTHRU, `${passthru(branchB)}?CallSid=r0001&CallFrom=09876500000&CallTo=08047112399`)).status).to.equal(401);
      expect(
        (await api.req('GET', PASSTHRU, `/webhooks/exotel/${fresh.webhookCredential}/passthru?CallSid=r0001&CallFrom=09876500000&CallTo=08047112399`)).status,
      ).to.equal(302);
    });

    it('the webhook limiter is keyed per credential: one noisy tenant does not starve another', async function () {
      this.timeout(90_000);
      // a second replica beside the first: its own local state (audit journal), the same database
      const tight = await startService({
        ...env,
        DATA_DIR: join(dir.path, 'replica-2'),
        AUDIT_JOURNAL_DIR: join(dir.path, 'journal-replica-2'),
        RATE_LIMIT_WEBHOOK_POINTS: '3',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      });
      try {
        const codes: number[] = [];
        for (let i = 0; i < 4; i++) codes.push((await fetch(`${tight.url}${passthru(acme)}?CallSid=lim${i}&CallFrom=09876543210&CallTo=08047112345`)).status);
        expect(codes).to.deep.equal([200, 200, 200, 429]);
        expect((await fetch(`${tight.url}${passthru(fencedOk)}?CallSid=lim9&CallFrom=09876543210&CallTo=08047110002`)).status).to.equal(200);
      } finally {
        await tight.stop();
      }
    });
  });

  describe('hygiene', () => {
    it('realistic Exotel payloads raise no anomaly finding (scanner functions and the live counter)', () => {
      for (const qs of [passthruCurrent('a1'), passthruLegacyWithStream('a2'), passthruStreamJson('a3')]) {
        const findings = inspectRequestLine(
          { path: `/webhooks/exotel/${acme.webhookCredential}/passthru`, querystring: qs, headers: { host: 'api.caly.test' } },
          { userAgentOptional: () => true },
        );
        expect(findings, qs).to.deep.equal([]);
      }
      const body = inspectBody(statusJson('a4'), { budget: 65536, maxDepth: BODY_MAX_DEPTH });
      expect(body.findings).to.deep.equal([]);
    });

    it('the live detector flagged only the two hostile requests above, none of the Exotel traffic', async () => {
      const samples = await scrape(svc.metricsUrl);
      const onHooks = samples
        .filter((s) => s.name === 'caly_security_anomalies_total' && (s.labels.http_route ?? '').startsWith('/webhooks/'))
        .map((s) => `${s.labels.kind} ${s.labels.http_route} ${s.value}`);
      // the 150 KB multipart body (oversized) and the CallSid "x'; DROP TABLE calls;--" (sql_injection)
      expect(onHooks.sort()).to.deep.equal([`oversized ${STATUS} 1`, `sql_injection ${STATUS} 1`]);
    });

    it('neither credentials nor caller numbers reach the logs', () => {
      const text = JSON.stringify(svc.logs);
      for (const t of [acme, branchB, fenced, fencedOk]) expect(text).not.to.include(t.webhookCredential);
      expect(text).not.to.include('9876543210');
      expect(text).to.include('/webhooks/exotel/[credential]/passthru');
    });

    it('caller numbers are encrypted at rest with an HMAC for search', async () => {
      const rows = await sql<{ from_enc: string; from_hash: Buffer }>(tdb.url, `SELECT from_enc, from_hash FROM calls WHERE call_sid = 'pt0001'`);
      expect(rows[0]!.from_enc).to.match(/^v1\./);
      expect(rows[0]!.from_enc).not.to.include('9876543210');
      expect(rows[0]!.from_hash).to.have.length(32);
    });
  });

  describe('telemetry', () => {
    it('every request above is a span with its route and a sample in the duration histogram', async () => {
      await api.verifyTelemetry(receiver.spans);
    });
  });
});
