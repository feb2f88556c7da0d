import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; attributes: Record<string, unknown> }>;
  status?: { code?: number };
  /** Unix nanoseconds, as the exporter sent them (strings: they exceed 2^53). */
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
const value = (v: OtlpValue): unknown => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? v.doubleValue));
const attrs = (list: Array<{ key: string; value: OtlpValue }> = []) => Object.fromEntries(list.map((a) => [a.key, value(a.value)]));

/**
 * A minimal OTLP/HTTP trace receiver (the JSON encoding @opentelemetry/exporter-trace-otlp-http
 * sends to /v1/traces), standing in for the Collector, which cannot run on this machine.
 */
export async function startOtlpReceiver(
  opts: { delayMs?: number } = {},
): Promise<{ url: string; spans: ReceivedSpan[]; server: Server; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  // delayMs stands for a slow collector: every export waits that long for its answer.
  const answer = (res: import('node:http').ServerResponse) => {
    const send = () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    if (opts.delayMs) setTimeout(send, opts.delayMs);
    else send();
  };
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.headers['content-type']?.includes('json')) {
        const doc = JSON.parse(body) as {
          resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }>;
        };
        for (const rs of doc.resourceSpans ?? [])
          for (const ss of rs.scopeSpans ?? [])
            for (const s of ss.spans ?? [])
              spans.push({
                traceId: s.traceId as string,
                spanId: s.spanId as string,
                parentSpanId: (s.parentSpanId as string) || undefined,
                name: s.name as string,
                kind: s.kind as number,
                attributes: attrs(s.attributes as never),
                events: ((s.events as Array<{ name: string; attributes: never }>) ?? []).map((e) => ({ name: e.name, attributes: attrs(e.attributes) })),
                status: s.status as { code?: number },
                startTimeUnixNano: BigInt(String(s.startTimeUnixNano)),
                endTimeUnixNano: BigInt(String(s.endTimeUnixNano)),
              });
      }
      answer(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    server,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
