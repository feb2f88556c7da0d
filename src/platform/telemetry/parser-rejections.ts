import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { SpanKind, trace } from '@opentelemetry/api';
import type { Logger } from '../logging/logger';
import type { Instruments } from './instruments';

/** What Node answers for each parser error it raises, and our envelope code for it. */
function answerFor(code: string): { status: number; reason: string; envelope: string; message: string } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, reason: 'Request Header Fields Too Large', envelope: 'BAD_REQUEST', message: 'Request headers are too large' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, reason: 'Payload Too Large', envelope: 'PAYLOAD_TOO_LARGE', message: 'Chunk extensions are too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, reason: 'Request Timeout', envelope: 'TIMEOUT', message: 'The request was not received in time' };
    default:
      return { status: 400, reason: 'Bad Request', envelope: 'BAD_REQUEST', message: 'Malformed HTTP request' };
  }
}

/**
 * Requests that Node's HTTP parser refuses (oversized headers, a malformed request line, a header
 * timeout) never reach Koa, so no middleware sees them. Node would answer them with a bare status
 * line; here they get the error envelope, a SERVER span (its ids are the request id), a counter by
 * error type (`HPE_*`: a fixed set) and a warn line. Never the raw bytes: they are attacker input.
 * Socket errors that are not parser errors (a reset peer) have nobody to answer: closed as Node does.
 */
export function observeParserRejections(server: Server, deps: { logger: Logger; instruments: Instruments }): void {
  const tracer = trace.getTracer('caly-api.http');
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const code = err.code ?? 'UNKNOWN';
    if (!code.startsWith('HPE_') && code !== 'ERR_HTTP_REQUEST_TIMEOUT') {
      socket.destroy();
      return;
    }
    const a = answerFor(code);
    const span = tracer.startSpan('HTTP', {
      kind: SpanKind.SERVER,
      attributes: { 'http.response.status_code': a.status, 'error.type': code, 'client.address': socket.remoteAddress, 'caly.error.code': a.envelope },
    });
    const sc = span.spanContext();
    const requestId = `${sc.traceId}-${sc.spanId}`;
    deps.instruments.parserRejections.add(1, { 'error.type': code, 'http.response.status_code': a.status });
    deps.logger.warn('request rejected by the HTTP parser', {
      error_type: code,
      status: a.status,
      request_id: requestId,
      client_ip: socket.remoteAddress,
      bytes_parsed: (err as { bytesParsed?: number }).bytesParsed,
    });
    if (socket.writable && socket.bytesWritten === 0) {
      const body = JSON.stringify({ error: { code: a.envelope, message: a.message, requestId, timestamp: new Date().toISOString() } });
      socket.write(
        `HTTP/1.1 ${a.status} ${a.reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    span.end();
    socket.destroy();
  });
}
