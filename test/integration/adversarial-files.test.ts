import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { mp3, wav } from '../helpers/audio';
import { Client, createTenant, domainEnv, runCli, scratchDir, sql, type CreatedTenant, type Tokens } from '../helpers/domain';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startService, type ServiceHandle } from '../helpers/service';

function upload(url: string, token: string, id: string, file: Buffer, name = 'a.bin'): Promise<Response> {
  const form = new FormData();
  form.append('file', new Blob([file]), name);
  return fetch(`${url}/api/calls/${id}/recording`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
}

describe('adversarial files and bindings: recordings, journal, ExoPhone, health', function () {
  this.timeout(120_000);
  let tdb: TestDatabase;
  let dir: ReturnType<typeof scratchDir>;
  let env: Record<string, string>;
  let svc: ServiceHandle;
  let acme: CreatedTenant;
  let globex: CreatedTenant;
  let owner: Tokens;
  let callId: string;

  before(async () => {
    tdb = await createTestDatabase();
    dir = scratchDir('caly-adv-files');
    env = domainEnv(tdb.url, dir.path);
    svc = await startService(env);
    [acme, globex] = await Promise.all([
      createTenant(env, { name: 'Acme', exophones: ['+918047112345'], ownerEmail: 'owner@acme.test' }),
      createTenant(env, { name: 'Globex', exophones: ['+918047199999'], ownerEmail: 'owner@globex.test' }),
    ]);
    owner = await new Client(svc).login('owner@acme.test', acme.ownerPassword);
    expect((await fetch(`${svc.url}/webhooks/exotel/${acme.webhookCredential}/passthru?CallSid=rec1&From=09876543210&To=08047112345`)).status).to.equal(200);
    callId = (await sql<{ id: string }>(tdb.url, "SELECT id FROM calls WHERE call_sid = 'rec1'"))[0]!.id;
  });
  after(async () => {
    await svc?.stop();
    await tdb?.drop();
    dir?.remove();
  });

  it('refuses what only looks like audio: 3 bytes of ID3, a bare RIFF header, a frame sync followed by noise', async () => {
    const fakes: Array<[string, Buffer]> = [
      ['ID3 only', Buffer.from('ID3')],
      ['ID3 + text', Buffer.concat([Buffer.from('ID3'), Buffer.from('<?php system($_GET[1]); ?>'.repeat(20))])],
      ['RIFF/WAVE without chunks', Buffer.from('RIFF\x24\x00\x00\x00WAVE', 'latin1')],
      [
        'WAV with a fmt of 9 channels and no data',
        (() => {
          const w = wav(10).subarray(0, 36);
          w.writeUInt16LE(9, 22);
          return w;
        })(),
      ],
      ['one frame header then noise', Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x64]), Buffer.from('not audio at all, just text '.repeat(40))])],
      ['OggS without a codec', Buffer.concat([Buffer.from('OggS'), Buffer.alloc(60, 0x41)])],
      ['fLaC without STREAMINFO', Buffer.concat([Buffer.from('fLaC'), Buffer.alloc(60, 0x7f)])],
    ];
    for (const [what, file] of fakes) {
      const r = await upload(svc.url, owner.accessToken, callId, file);
      expect(r.status, what).to.equal(415);
    }
  });

  it('accepts real WAV and MP3, stores them encrypted with mode 0600, and serves the exact bytes back', async () => {
    for (const [file, mime] of [
      [wav(8000), 'audio/wav'],
      [mp3(6), 'audio/mpeg'],
      [mp3(3, false), 'audio/mpeg'],
    ] as const) {
      const r = await upload(svc.url, owner.accessToken, callId, file);
      expect(r.status, await r.clone().text()).to.equal(201);
      const row = (
        await sql<{ recording_path: string; recording_mime: string }>(tdb.url, 'SELECT recording_path, recording_mime FROM calls WHERE id = $1', [callId])
      )[0]!;
      expect(row.recording_mime).to.equal(mime);
      const onDisk = join(dir.path, 'recordings', row.recording_path);
      expect(statSync(onDisk).mode & 0o777).to.equal(0o600);
      const stored = readFileSync(onDisk);
      expect(stored.includes(file.subarray(44, 108)), 'plaintext audio on disk').to.equal(false);
      expect(stored.includes(Buffer.from('RIFF')) || stored.includes(Buffer.from([0xff, 0xfb, 0x90, 0x64]))).to.equal(false);
      const back = await fetch(`${svc.url}/api/calls/${callId}/recording`, { headers: { authorization: `Bearer ${owner.accessToken}` } });
      expect(back.status).to.equal(200);
      expect(Buffer.from(await back.arrayBuffer()).equals(file)).to.equal(true);
    }
  });

  it('secrets:reencrypt seals stream URLs that older rows hold in clear, and removes them from the readable document', async () => {
    await sql(tdb.url, `INSERT INTO calls (tenant_id, call_sid, status, exotel) VALUES ($1, 'legacy1', 'completed', $2::jsonb)`, [
      acme.tenantId,
      JSON.stringify({ stream: { StreamSID: 's1', StreamUrl: 'wss://voice.caly.test/legacy-zq9', RecordingUrl: 'https://recs.exotel.com/legacy-zq9.wav' } }),
    ]);
    const r = await runCli('cli/reencrypt.js', [], env);
    expect(r.code, r.stderr).to.equal(0);
    expect((JSON.parse(r.stdout) as { rewritten: Record<string, number> }).rewritten['calls.exotel.stream']).to.equal(1);
    const row = (
      await sql<{ exotel: unknown; stream_urls_enc: string | null }>(tdb.url, "SELECT exotel, stream_urls_enc FROM calls WHERE call_sid = 'legacy1'")
    )[0]!;
    expect(row.exotel).to.deep.equal({ stream: { StreamSID: 's1' } });
    // Neither URL nor its distinctive part in the sealed column. (It was `not.include('zq9')`: three
    // base64url characters, which a random ciphertext of ~150 holds about once in 1,700 runs; CI met it.)
    expect(row.stream_urls_enc).to.be.a('string');
    for (const plain of ['wss://voice.caly.test/legacy-zq9', 'https://recs.exotel.com/legacy-zq9.wav', 'legacy-zq9'])
      expect(row.stream_urls_enc).not.to.include(plain);
  });

  it('keeps the audit journal owner-only: directories 0700, files 0600', async () => {
    const walk = (p: string): string[] =>
      readdirSync(p, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? [join(p, e.name), ...walk(join(p, e.name))] : [join(p, e.name)]));
    const journal = join(dir.path, 'audit-journal');
    // Segments are deleted once stored: hold audit_logs locked so the login's segment stays on disk.
    const lock = new pg.Client({ connectionString: tdb.url });
    await lock.connect();
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE audit_logs IN ACCESS EXCLUSIVE MODE');
    try {
      await new Client(svc).login('owner@acme.test', acme.ownerPassword);
      const entries = walk(journal);
      expect(
        entries.some((e) => /seg-\d{12}\.jsonl$/.test(e)),
        'a journal segment to check',
      ).to.equal(true);
      for (const e of entries) {
        const st = statSync(e);
        expect(st.mode & 0o077, `${e} is readable by others`).to.equal(0);
      }
    } finally {
      await lock.query('ROLLBACK');
      await lock.end();
    }
    expect(statSync(journal).mode & 0o077).to.equal(0);
  });

  it("binds a call to its ExoPhone on every event: a later event naming another tenant's ExoPhone is refused", async () => {
    const base = `${svc.url}/webhooks/exotel/${acme.webhookCredential}`;
    expect((await fetch(`${base}/passthru?CallSid=bind1`)).status).to.equal(200); // no numbers: the call exists
    const hijack = await fetch(`${base}/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ CallSid: 'bind1', Status: 'completed', PhoneNumberSid: '08047199999', To: '08047199999', From: '09876543210' }),
    });
    expect(hijack.status).to.equal(404);
    const row = (await sql<{ exophone: string | null; status: string }>(tdb.url, "SELECT exophone, status FROM calls WHERE call_sid = 'bind1'"))[0]!;
    expect(row).to.deep.equal({ exophone: null, status: 'in-progress' });
    const mine = await fetch(`${base}/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ CallSid: 'bind1', Status: 'completed', PhoneNumberSid: '08047112345', From: '09876543210' }),
    });
    expect(mine.status).to.equal(200);
    expect((await sql<{ exophone: string }>(tdb.url, "SELECT exophone FROM calls WHERE call_sid = 'bind1'"))[0]!.exophone).to.equal('+918047112345');
    expect(globex.tenantId).to.be.a('string');
  });

  it('/health/detailed is never granted by a loopback address when a proxy is trusted or the service binds beyond loopback', async () => {
    expect((await fetch(`${svc.url}/health/detailed`)).status).to.equal(200); // loopback bind, no proxy: allowed
    for (const extra of [{ TRUST_PROXY: 'true' }, { HOST: '0.0.0.0' }]) {
      const d = scratchDir('caly-adv-health');
      const other = await startService({ ...env, DATA_DIR: d.path, ...extra });
      try {
        const r = await fetch(`${other.url}/health/detailed`);
        expect(r.status, JSON.stringify(extra)).to.equal(401);
        const withToken = await startService({ ...env, DATA_DIR: scratchDir('caly-adv-health-t').path, ...extra, HEALTH_TOKEN: 'h'.repeat(32) });
        try {
          expect((await fetch(`${withToken.url}/health/detailed`, { headers: { authorization: `Bearer ${'h'.repeat(32)}` } })).status).to.equal(200);
        } finally {
          await withToken.stop();
        }
      } finally {
        await other.stop();
        d.remove();
      }
    }
  });
});
