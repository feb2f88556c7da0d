import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startOtlpReceiver } from '../helpers/otlp-receiver';
import { startService, type ServiceHandle } from '../helpers/service';
import { until } from '../helpers/poll';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The rate limiters' Redis calls are part of the request's trace (ioredis instrumentation). */
describe('Redis calls are visible in the request trace', function () {
  this.timeout(60_000);
  const prefix = `caly-redis-spans-${randomBytes(4).toString('hex')}`;
  let tdb: TestDatabase;
  let svc: ServiceHandle;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  before(async () => {
    tdb = await createTestDatabase();
    receiver = await startOtlpReceiver();
    svc = await startService({
      DATABASE_URL: tdb.url,
      REDIS_URL,
      RATE_LIMIT_PREFIX: prefix,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
  });
  after(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.drop();
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('an /api/* request (API limiter on Redis) has a Redis CLIENT span under its server span, without the bucket key', async () => {
    const res = await fetch(`${svc.url}/api/ping`);
    expect(res.status).to.equal(200);
    const [traceId, spanId] = res.headers.get('x-request-id')!.split('-');
    const redisSpan = await until(() =>
      receiver.spans.find((s) => s.traceId === traceId && s.kind === 3 && /redis/i.test(String(s.attributes['db.system.name'] ?? s.attributes['db.system']))),
    );
    expect(redisSpan.parentSpanId).to.equal(spanId);
    const statement = String(redisSpan.attributes['db.query.text'] ?? redisSpan.attributes['db.statement'] ?? '');
    expect(statement).not.to.include(prefix);
    expect(statement).not.to.include('127.0.0.1');
  });
});
