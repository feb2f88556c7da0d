import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { flac, mp3, oggOpus, wav } from '../helpers/audio';
import { addUser, auditRows, Client, createTenant, domainEnv, scratchDir, sql, type CreatedTenant } from '../helpers/domain';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startOtlpReceiver } from '../helpers/otlp-receiver';
import { startService, type ServiceHandle } from '../helpers/service';

const PASSTHRU = '/webhooks/exotel/:credential/passthru';
const STATUS = '/webhooks/exotel/:credential/status';
const CALLS = '/api/calls';
const CALL = '/api/calls/:id';
const RECORDING = '/api/calls/:id/recording';
const MAX_BYTES = 64 * 1024;

type Call = {
  id: string;
  callSid: string;
  status: string;
  direction: string;
  from: string;
  resolved: boolean;
  notes: string;
  tags: string[];
  recording: { uploaded: { mimeType: string; bytes: number } | null };
};
type Envelope = { error: { code: string; message: string; details?: Array<{ path: string }> } };

/** Audio files as they start on disk; the rest is filler. */
/** Structurally real files: the upload route parses the container, magic bytes are not enough. */
const audio = {
  wav: () => wav(1000),
  mp3id3: () => mp3(4, true),
  mp3sync: () => mp3(4, false),
  ogg: () => oggOpus(),
  flac: () => flac(),
};
const upload = (bytes: Buffer, name = 'call.wav', type = 'audio/wav', field = 'file') => {
  const fd = new FormData();
  fd.append(field, new Blob([bytes], { type }), name);
  return fd;
};

describe('domain: calls API, recordings and tenant isolation', function () {
  this.timeout(60_000);
  let tdb: TestDatabase;
  let dir: ReturnType<typeof scratchDir>;
  let env: Record<string, string>;
  let svc: ServiceHandle;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let api: Client;
  let acme: CreatedTenant;
  let globex: CreatedTenant;
  const tok: Record<'owner' | 'admin' | 'agent' | 'viewer' | 'globex', string> = { owner: '', admin: '', agent: '', viewer: '', globex: '' };
  const acmeCalls: Call[] = [];

  const passthru = (t: CreatedTenant, sid: string, from: string, to: string, extra = '') =>
    api.req('GET', PASSTHRU, `/webhooks/exotel/${t.webhookCredential}/passthru?CallSid=${sid}&CallFrom=${from}&CallTo=${to}&Direction=incoming${extra}`);

  before(async function () {
    this.timeout(120_000);
    [tdb, receiver] = await Promise.all([createTestDatabase('caly_dom_calls'), startOtlpReceiver()]);
    dir = scratchDir('caly-dom-calls');
    env = domainEnv(tdb.url, dir.path, { RECORDING_MAX_BYTES: String(MAX_BYTES) });
    [acme, globex] = await Promise.all([
      createTenant(env, { name: 'Acme', exophones: ['+918047112345'], ownerEmail: 'owner@acme.test' }),
      createTenant(env, { name: 'Globex', exophones: ['+918047112346'], ownerEmail: 'owner@globex.test' }),
    ]);
    await Promise.all(['admin', 'agent', 'viewer'].map((r) => addUser(env, acme.tenantId, `${r}@acme.test`, r)));
    svc = await startService({ ...env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    api = new Client(svc);
    tok.owner = (await api.login('owner@acme.test', acme.ownerPassword)).accessToken;
    for (const r of ['admin', 'agent', 'viewer'] as const) tok[r] = (await api.login(`${r}@acme.test`, 'user password 123')).accessToken;
    tok.globex = (await api.login('owner@globex.test', globex.ownerPassword)).accessToken;

    // Five Acme calls and one Globex call, through the real webhooks.
    for (let i = 1; i <= 5; i++) expect((await passthru(acme, `ac${i}`, `0987654321${i}`, '08047112345')).status).to.equal(200);
    expect(
      (
        await api.req('POST', STATUS, `/webhooks/exotel/${acme.webhookCredential}/status`, {
          json: { CallSid: 'ac2', Status: 'completed', DateUpdated: '2026-11-28 10:05:00' },
        })
      ).status,
    ).to.equal(200);
    expect((await passthru(globex, 'gx1', '09876543211', '08047112346')).status).to.equal(200);
    const list = await api.json<{ data: Call[] }>('GET', CALLS, '/api/calls?limit=100', { token: tok.owner });
    acmeCalls.push(...list.body.data);
  });
  after(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.drop();
    dir?.remove();
  });

  describe('list and filters', () => {
    it("lists the tenant's own calls, newest first, with numbers decrypted", () => {
      expect(acmeCalls.map((c) => c.callSid)).to.deep.equal(['ac5', 'ac4', 'ac3', 'ac2', 'ac1']);
      expect(acmeCalls.find((c) => c.callSid === 'ac3')!.from).to.equal('+919876543213');
    });

    it('cursor pagination: pages of 2 cover every call once; a forged cursor is a 400', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const q: string = cursor ? `&cursor=${cursor}` : '';
        const r: { body: { data: Call[]; nextCursor: string | null } } = await api.json('GET', CALLS, `/api/calls?limit=2${q}`, { token: tok.viewer });
        seen.push(...r.body.data.map((c) => c.callSid));
        cursor = r.body.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).to.equal(3);
      expect(seen).to.deep.equal(['ac5', 'ac4', 'ac3', 'ac2', 'ac1']);
      const bad = await api.json<Envelope>('GET', CALLS, `/api/calls?cursor=${Buffer.from('["x","y"]').toString('base64url')}`, { token: tok.viewer });
      expect(bad.status).to.equal(400);
      expect((await api.req('GET', CALLS, '/api/calls?limit=101', { token: tok.viewer })).status).to.equal(400);
    });

    it('filters: status, direction, resolved, date range, exact phone in any spelling, text in notes', async () => {
      const sids = async (q: string) =>
        (await api.json<{ data: Call[] }>('GET', CALLS, `/api/calls?${q}`, { token: tok.agent })).body.data.map((c) => c.callSid);
      expect(await sids('status=completed')).to.deep.equal(['ac2']);
      expect(await sids('direction=inbound&status=in-progress')).to.deep.equal(['ac5', 'ac4', 'ac3', 'ac1']);
      expect(await sids('phone=09876543214')).to.deep.equal(['ac4']);
      expect(await sids(`phone=${encodeURIComponent('+91 98765 43214')}`)).to.deep.equal(['ac4']);
      expect(await sids('since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z')).to.deep.equal([]);
      const ac1 = acmeCalls.find((c) => c.callSid === 'ac1')!;
      expect(
        (await api.req('PATCH', CALL, `/api/calls/${ac1.id}`, { token: tok.agent, json: { notes: "Refund of 100% requested by Mr. O'Brien", resolved: true } }))
          .status,
      ).to.equal(200);
      expect(await sids('q=100%25')).to.deep.equal(['ac1']); // % is a literal, not a wildcard
      expect(await sids('q=o%27brien&resolved=true')).to.deep.equal(['ac1']);
      expect(await sids('q=_')).to.deep.equal([]);
      expect(await sids('resolved=false')).to.not.include('ac1');
      const bad = await api.json<Envelope>('GET', CALLS, '/api/calls?status=exploded&phone=12&resolved=maybe&since=yesterday&sort=id', { token: tok.agent });
      expect(bad.status).to.equal(400);
      expect(bad.body.error.details!.map((d) => d.path)).to.include.members(['/query/status', '/query/phone', '/query/resolved', '/query/since']);
    });
  });

  describe('read, update, delete', () => {
    it('GET one call is audited DATA_ACCESSED', async () => {
      const c = acmeCalls[0]!;
      const r = await api.json<Call>('GET', CALL, `/api/calls/${c.id}`, { token: tok.viewer });
      expect(r.status).to.equal(200);
      expect(r.body.callSid).to.equal(c.callSid);
      expect(await auditRows(tdb.url, `event_type = 'DATA_ACCESSED' AND resource_id = $1`, [c.id])).to.have.length.greaterThan(0);
    });

    it('PATCH notes/tags/resolved: DATA_UPDATED records what changed, not the note text', async () => {
      const c = acmeCalls[1]!;
      const r = await api.json<Call>('PATCH', CALL, `/api/calls/${c.id}`, {
        token: tok.agent,
        json: { notes: 'Caller +919876543210 wants a callback', tags: ['callback', ' vip '] },
      });
      expect(r.status).to.equal(200);
      expect(r.body.tags).to.deep.equal(['callback', 'vip']);
      const rows = await auditRows(tdb.url, `event_type = 'DATA_UPDATED' AND resource_id = $1`, [c.id]);
      expect(rows[0]!.changes).to.deep.include({ tags: { from: [], to: ['callback', 'vip'] } });
      expect(JSON.stringify(rows[0])).not.to.include('callback wants').and.not.to.include('919876543210');
      for (const body of [{}, { notes: 5 }, { tags: ['<script>'] }, { status: 'completed' }, { resolved: 'yes' }]) {
        expect((await api.req('PATCH', CALL, `/api/calls/${c.id}`, { token: tok.agent, json: body })).status, JSON.stringify(body)).to.equal(400);
      }
    });

    it('roles: viewer cannot edit, agent cannot delete (403, ACCESS_DENIED); admin deletes (DATA_DELETED)', async () => {
      const c = acmeCalls[2]!;
      expect((await api.req('PATCH', CALL, `/api/calls/${c.id}`, { token: tok.viewer, json: { resolved: true } })).status).to.equal(403);
      expect((await api.req('DELETE', CALL, `/api/calls/${c.id}`, { token: tok.agent })).status).to.equal(403);
      const denied = await auditRows(tdb.url, `event_type = 'ACCESS_DENIED' AND tenant_id = $1`, [acme.tenantId], 2);
      expect(denied.map((d) => (d.metadata as { role: string }).role)).to.include.members(['viewer', 'agent']);
      expect((await api.req('DELETE', CALL, `/api/calls/${c.id}`, { token: tok.admin })).status).to.equal(204);
      expect((await api.req('GET', CALL, `/api/calls/${c.id}`, { token: tok.admin })).status).to.equal(404);
      expect((await api.req('DELETE', CALL, `/api/calls/${c.id}`, { token: tok.admin })).status).to.equal(404);
      expect(await auditRows(tdb.url, `event_type = 'DATA_DELETED' AND resource_id = $1`, [c.id])).to.have.length(1);
    });

    it('a malformed id is a 400, an unknown one a 404; never a 500', async () => {
      for (const id of ['not-a-uuid', '1%27%20OR%201%3D1', '00000000-0000-0000-0000-000000000000']) {
        const r = await api.req('GET', CALL, `/api/calls/${id}`, { token: tok.owner });
        expect(r.status, id).to.equal(400);
      }
      expect((await api.req('GET', CALL, '/api/calls/6f1c1e7e-3b0c-4c39-9d4b-2f1b2a9b7c11', { token: tok.owner })).status).to.equal(404);
    });
  });

  describe('recordings', () => {
    it('uploads WAV, MP3 (ID3 and frame sync), OGG and FLAC by their containers; downloads the same bytes', async () => {
      const c = acmeCalls[0]!;
      for (const [kind, mime] of [
        ['mp3id3', 'audio/mpeg'],
        ['mp3sync', 'audio/mpeg'],
        ['ogg', 'audio/ogg'],
        ['flac', 'audio/flac'],
        ['wav', 'audio/wav'],
      ] as const) {
        const bytes = audio[kind]();
        // the client's name and type are ignored: only the bytes decide
        const r = await api.json<{ recording: { mimeType: string; bytes: number } }>('POST', RECORDING, `/api/calls/${c.id}/recording`, {
          token: tok.agent,
          body: upload(bytes, '../../etc/passwd', 'text/plain'),
        });
        expect(r.status, kind).to.equal(201);
        expect(r.body.recording).to.deep.equal({ mimeType: mime, bytes: bytes.length });
      }
      const res = await api.req('GET', RECORDING, `/api/calls/${c.id}/recording`, { token: tok.viewer });
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('audio/wav');
      expect(res.headers.get('content-disposition')).to.equal(`attachment; filename="${c.id}.wav"`);
      expect(Buffer.from(await res.arrayBuffer()).equals(audio.wav())).to.equal(true);
      // one file kept per call (replaced ones deleted), under a generated name
      const files = readdirSync(join(dir.path, 'recordings', acme.tenantId));
      expect(files).to.have.length(1);
      expect(files[0]).to.match(/^[0-9a-f-]{36}\.wav$/);
      const rows = await auditRows(tdb.url, `event_type = 'RECORDING_RECEIVED' AND resource_id = $1`, [c.id], 5);
      expect((rows[0]!.metadata as { source: string }).source).to.equal('upload');
    });

    it('wrong type → 415, oversize → 413 while streaming, no file part → 400, not multipart → 415; nothing kept', async () => {
      const c = acmeCalls[1]!;
      const path = `/api/calls/${c.id}/recording`;
      const fake = await api.json<Envelope>('POST', RECORDING, path, {
        token: tok.agent,
        body: upload(Buffer.from('<?php system($_GET["c"]); ?>'), 'x.wav', 'audio/wav'),
      });
      expect(fake.status).to.equal(415);
      const exe = await api.req('POST', RECORDING, path, {
        token: tok.agent,
        body: upload(Buffer.concat([Buffer.from('MZ'), Buffer.alloc(500)]), 'x.mp3', 'audio/mpeg'),
      });
      expect(exe.status).to.equal(415);
      const big = await api.json<Envelope>('POST', RECORDING, path, { token: tok.agent, body: upload(Buffer.concat([audio.wav(), Buffer.alloc(MAX_BYTES)])) });
      expect(big.status).to.equal(413);
      expect(big.body.error.code).to.equal('PAYLOAD_TOO_LARGE');
      expect((await api.req('POST', RECORDING, path, { token: tok.agent, body: upload(audio.wav(), 'a.wav', 'audio/wav', 'other') })).status).to.equal(400);
      expect((await api.req('POST', RECORDING, path, { token: tok.agent, json: { file: 'UklGRg==' } })).status).to.equal(415);
      expect((await api.req('GET', RECORDING, path, { token: tok.agent })).status).to.equal(404);
      const leftovers = readdirSync(join(dir.path, 'recordings', acme.tenantId)).filter((f) => f.startsWith('.upload-'));
      expect(leftovers).to.deep.equal([]);
    });

    it('viewers may download but not upload', async () => {
      const c = acmeCalls[0]!;
      expect((await api.req('POST', RECORDING, `/api/calls/${c.id}/recording`, { token: tok.viewer, body: upload(audio.wav()) })).status).to.equal(403);
    });
  });

  describe('tenant isolation', () => {
    it("every route answers another tenant's call exactly like a missing one (404), and changes nothing", async () => {
      const victim = acmeCalls[0]!; // has a recording
      const missing = '6f1c1e7e-3b0c-4c39-9d4b-2f1b2a9b7c11';
      const routes: Array<[string, string, string, () => { json?: unknown; body?: RequestInit['body'] }]> = [
        ['GET', CALL, '/api/calls/ID', () => ({})],
        ['PATCH', CALL, '/api/calls/ID', () => ({ json: { notes: 'pwned', resolved: true } })],
        ['DELETE', CALL, '/api/calls/ID', () => ({})],
        ['GET', RECORDING, '/api/calls/ID/recording', () => ({})],
        ['POST', RECORDING, '/api/calls/ID/recording', () => ({ body: upload(audio.wav()) })],
      ];
      for (const [method, route, template, init] of routes) {
        const theirs = await api.json<Envelope>(method, route, template.replace('ID', victim.id), { token: tok.globex, ...init() });
        const none = await api.json<Envelope>(method, route, template.replace('ID', missing), { token: tok.globex, ...init() });
        expect(theirs.status, `${method} ${route}`).to.equal(404);
        expect([theirs.body.error.code, theirs.body.error.message], `${method} ${route}`).to.deep.equal([none.body.error.code, none.body.error.message]);
      }
      const list = await api.json<{ data: Call[] }>('GET', CALLS, '/api/calls?limit=100', { token: tok.globex });
      expect(list.body.data.map((c) => c.callSid)).to.deep.equal(['gx1']);
      // Acme's caller number searched from Globex: only Globex's own call with that number
      const byPhone = await api.json<{ data: Call[] }>('GET', CALLS, '/api/calls?phone=09876543215', { token: tok.globex });
      expect(byPhone.body.data).to.deep.equal([]);
      const after = await api.json<Call>('GET', CALL, `/api/calls/${victim.id}`, { token: tok.owner });
      expect(after.body.notes).not.to.equal('pwned');
      expect(after.body.recording.uploaded).to.deep.equal({ mimeType: 'audio/wav', bytes: audio.wav().length });
    });

    it("Globex's webhook credential cannot touch Acme's calls or numbers", async () => {
      const r = await api.req('POST', STATUS, `/webhooks/exotel/${globex.webhookCredential}/status`, {
        json: { CallSid: 'ac5', Status: 'failed', From: '09876543215', To: '08047112345' },
      });
      expect(r.status).to.equal(404); // Acme's ExoPhone, not Globex's
      const rows = await sql(tdb.url, `SELECT tenant_id, status FROM calls WHERE call_sid = 'ac5'`);
      expect(rows).to.deep.equal([{ tenant_id: acme.tenantId, status: 'in-progress' }]);
    });
  });

  describe('telemetry', () => {
    it('every request above is a span with its route and a sample in the duration histogram', async () => {
      await api.verifyTelemetry(receiver.spans);
    });
  });
});
