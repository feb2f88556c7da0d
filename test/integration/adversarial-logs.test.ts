import { expect } from 'chai';
import { Client, createTenant, domainEnv, runCli, scratchDir, sql, type CreatedTenant, type Tokens } from '../helpers/domain';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startService, type ServiceHandle } from '../helpers/service';
import { raw } from '../helpers/raw-http';

/** What this suite sends that must never reach a log line, and how often each was found. */
export const logFigures = { secretsSent: 0, found: [] as string[] };

describe('adversarial logs: one redaction point, no secret or number the test sent in any log line', function () {
  this.timeout(120_000);
  let tdb: TestDatabase;
  let dir: ReturnType<typeof scratchDir>;
  let env: Record<string, string>;
  let svc: ServiceHandle;
  let acme: CreatedTenant;
  let owner: Tokens;

  // Caller numbers in every spelling Exotel uses, recording and stream URLs, DTMF, a search term.
  const callers = ['+919812734650', '09876512340', '919123487650'];
  const secrets = {
    recording: 'https://recordings.exotel.com/exotelrecordings/acme/zq7secretrec.mp3?sig=rec-sig-8h2',
    streamRec: 'https://stream-recs.exotel.com/zq7streamrec.wav',
    stream: 'wss://voice.caly.test/audio?callId=zq7streamurl',
    digits: '739146',
    search: 'Zaphod Beeblebrox',
    password: 'owner password 123',
  };

  before(async () => {
    tdb = await createTestDatabase();
    dir = scratchDir('caly-adv-logs');
    env = domainEnv(tdb.url, dir.path);
    svc = await startService({ ...env, ACCESS_LOG: 'all', LOG_LEVEL: 'debug' });
    acme = await createTenant(env, { name: 'Acme', exophones: ['+918047112345'], ownerEmail: 'owner@acme.test' });
    owner = await new Client(svc).login('owner@acme.test', secrets.password);
  });
  after(async () => {
    console.log(`      figures: ${logFigures.secretsSent} secrets and numbers sent, ${new Set(logFigures.found).size} found in the log`);
    await svc?.stop();
    await tdb?.drop();
    dir?.remove();
  });

  it('viewers never receive stream URLs; the database holds them encrypted', async () => {
    const q = new URLSearchParams({
      CallSid: 'lgstream',
      From: callers[0]!,
      To: '08047112345',
      'Stream[StreamUrl]': secrets.stream,
      'Stream[RecordingUrl]': secrets.streamRec,
      'Stream[Status]': 'completed',
    });
    expect((await raw(svc.url, 'GET', `/webhooks/exotel/${acme.webhookCredential}/passthru?${q}`)).status).to.equal(200);
    const id = (await sql<{ id: string }>(tdb.url, "SELECT id FROM calls WHERE call_sid = 'lgstream'"))[0]!.id;
    const one = await raw(svc.url, 'GET', `/api/calls/${id}`, { authorization: `Bearer ${owner.accessToken}` });
    const list = await raw(svc.url, 'GET', '/api/calls', { authorization: `Bearer ${owner.accessToken}` });
    expect(one.status).to.equal(200);
    expect(`${one.body}${list.body}`).not.to.match(/zq7stream|wss:/);
    expect((JSON.parse(one.body) as { recording: { stream: boolean } }).recording.stream).to.equal(true);
    const rows = await sql<{ exotel: unknown; stream_urls_enc: string | null }>(
      tdb.url,
      "SELECT exotel, stream_urls_enc FROM calls WHERE call_sid = 'lgstream'",
    );
    expect(JSON.stringify(rows[0]!.exotel)).not.to.match(/zq7stream/);
    expect(rows[0]!.stream_urls_enc).to.be.a('string').and.not.include('zq7');
  });

  it('sends webhooks (every path spelling, failed and 5xx ones too), searches and logins, then finds none of it in the log', async () => {
    const cred = acme.webhookCredential;
    const qs = (sid: string, i: number) =>
      new URLSearchParams({
        CallSid: sid,
        CallFrom: callers[i % 3]!,
        CallTo: '08047112345',
        From: callers[(i + 1) % 3]!,
        RecordingUrl: secrets.recording,
        digits: `"${secrets.digits}"`,
        'Stream[StreamUrl]': secrets.stream,
        'Stream[RecordingUrl]': secrets.streamRec,
        DialWhomNumber: callers[(i + 2) % 3]!,
      }).toString();
    const spellings = [
      `/webhooks/exotel/${cred}/passthru`,
      `/Webhooks/exotel/${cred}/passthru`,
      `//webhooks/exotel/${cred}/passthru`,
      `/webhooks//exotel/${cred}/passthru`,
      `/WEBHOOKS/EXOTEL/${cred}/PASSTHRU`,
      `/webhooks/Exotel/${cred}/nope`,
      `/webhooks/exotel/${cred}/passthru/`,
    ];
    let i = 0;
    for (const p of spellings) {
      const r = await raw(svc.url, 'GET', `${p}?${qs(`lg${i}`, i)}`, { 'user-agent': 'Exotel' });
      expect(r.status).to.be.below(500);
      i++;
    }
    // A wrong credential (401), a missing CallSid (400), a body that is not an object (400).
    await raw(svc.url, 'GET', `/webhooks/exotel/${cred.slice(0, -2)}xx/passthru?${qs('lgbad', 1)}`);
    await raw(svc.url, 'GET', `/webhooks/exotel/${cred}/passthru?${qs('', 2).replace('CallSid=&', '')}`);
    const statusBody = {
      CallSid: 'lgst1',
      Status: 'completed',
      PhoneNumberSid: '08047112345',
      From: callers[0],
      To: callers[1],
      RecordingUrl: secrets.recording,
      Stream: { StreamUrl: secrets.stream },
      CustomField: `call me on ${callers[2]}`,
    };
    await raw(svc.url, 'POST', `/webhooks/exotel/${cred}/status`, { 'content-type': 'application/json' }, JSON.stringify(statusBody));
    await raw(svc.url, 'POST', `/webhooks/exotel/${cred}/status`, { 'content-type': 'application/json' }, JSON.stringify([statusBody]));
    // A 5xx: the database raises an error of its own for this CallSid, so the 5xx line (with the
    // request body and headers) is written.
    await sql(
      tdb.url,
      `CREATE FUNCTION adv_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.call_sid = 'lgboom' THEN RAISE EXCEPTION 'boom for %', NEW.call_sid; END IF; RETURN NEW; END $$`,
    );
    await sql(tdb.url, 'CREATE TRIGGER adv_boom BEFORE INSERT ON calls FOR EACH ROW EXECUTE FUNCTION adv_boom()');
    const boom = await raw(
      svc.url,
      'POST',
      `/webhooks/exotel/${cred}/status?token=${cred}`,
      { 'content-type': 'application/json', referer: `https://x.test/webhooks/exotel/${cred}/status` },
      JSON.stringify({ ...statusBody, CallSid: 'lgboom' }),
    );
    expect(boom.status).to.equal(500);

    // Searches on personal data, and auth traffic.
    const auth = { authorization: `Bearer ${owner.accessToken}` };
    for (const c of callers) await raw(svc.url, 'GET', `/api/calls?phone=${encodeURIComponent(c.startsWith('+') ? c : `+${c.replace(/^0/, '91')}`)}`, auth);
    await raw(svc.url, 'GET', `/api/calls?q=${encodeURIComponent(secrets.search)}`, auth);
    await raw(svc.url, 'GET', `/api/calls?q=${encodeURIComponent(callers[0]!)}`, auth);
    await raw(svc.url, 'POST', '/api/auth/refresh', { 'content-type': 'application/json' }, JSON.stringify({ refreshToken: owner.refreshToken }));
    await raw(
      svc.url,
      'POST',
      '/api/auth/login',
      { 'content-type': 'application/json' },
      JSON.stringify({ email: 'owner@acme.test', password: 'x'.repeat(3) + secrets.password }),
    );

    // CLI output passes the same redaction point: an error naming a caller's number.
    const cli = await runCli(
      'cli/tenants.js',
      ['create', '--json', '--name', 'Bad', '--owner-email', 'bad@x.test', '--owner-password', 'long enough pw', '--exophone', `${callers[0]}x`],
      env,
    );
    expect(cli.code).to.not.equal(0);

    await svc.stop();
    const log = `${svc.logs.map((l) => JSON.stringify(l)).join('\n')}\n${svc.stderr()}\n${cli.stdout}\n${cli.stderr}`;
    expect(log.length).to.be.greaterThan(1000);
    const needles = [
      cred,
      cred.slice(0, 16),
      owner.accessToken,
      owner.refreshToken,
      secrets.password,
      secrets.search,
      'Beeblebrox',
      secrets.digits,
      'zq7secretrec',
      'rec-sig-8h2',
      'zq7streamrec',
      'zq7streamurl',
      'voice.caly.test/audio',
      ...callers.flatMap((c) => [c, c.replace(/^\+/, ''), c.replace(/^\+?91|^0/, '')]),
      '9812734650',
      '9876512340',
      '9123487650',
    ];
    logFigures.secretsSent = needles.length;
    const encodedToo = (n: string) => [n, encodeURIComponent(n), encodeURIComponent(encodeURIComponent(n)), JSON.stringify(n).slice(1, -1)];
    for (const n of needles) for (const form of encodedToo(n)) if (log.includes(form)) logFigures.found.push(n);
    expect([...new Set(logFigures.found)], 'secrets found in the log').to.deep.equal([]);
    // The log still says what happened: masked numbers keep their last 4 digits, paths their shape.
    expect(log).to.include('4650');
    expect(log).to.match(/\/webhooks\/exotel\/\[credential\]\/passthru/i);
  });
});
