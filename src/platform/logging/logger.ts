import type { SpanContext } from '@opentelemetry/api';
import { writeSync } from 'node:fs';
import SonicBoom from 'sonic-boom';
import winston from 'winston';
import Transport from 'winston-transport';
import { isValidSpanContext } from '../context/span-context';
import { createRedactor, maskPhone, redactQueryString, REDACTED, scrubText, type RedactorApi } from './redact';
import { turnBatch, type TurnBatch } from './turn-batch';

export type Logger = winston.Logger;

export interface LoggerOptions {
  level: string;
  service: string;
  environment: string;
  redactKeys?: readonly string[];
  /** Defaults to stdout through an asynchronous writer. Tests pass their own stream. */
  stream?: NodeJS.WritableStream;
}

const MESSAGE = Symbol.for('message');
const LEVEL = Symbol.for('level');

export interface LoggerHandle {
  logger: Logger;
  redactor: RedactorApi;
  /** Writes out whatever is buffered; called on shutdown and before exit. */
  flush(): void;
}

/**
 * winston, one JSON object per line. The destination is a SonicBoom writer in asynchronous mode:
 * Node writes to pipes synchronously on Linux, so a plain Console transport would stall the event
 * loop whenever the log reader is slow. SonicBoom buffers and coalesces writes off the hot path.
 */
export function createLogger(opts: LoggerOptions): LoggerHandle {
  const redactor = createRedactor(opts.redactKeys);
  // Buffer mode: in its default utf8 mode SonicBoom measures the byte length of the whole pending
  // chunk (up to 16 KB) again on every write, ~3 µs a line under load against ~1 µs for encoding
  // the line once here (bench/README.md, "the log writer").
  const sonic = opts.stream ? undefined : new SonicBoom({ fd: 1, sync: false, minLength: 0, contentMode: 'buffer' });
  // Every line reaches SonicBoom as part of its turn's batch (turn-batch.ts says why).
  const lines = sonic ? turnBatch((batch) => sonic.write(batch as unknown as string)) : undefined;

  // One format pass: redact, timestamp, serialise. This is the one redaction point: every line,
  // the per-request access line included (lineWriterFor), is built here. logform's json() uses
  // safe-stable-stringify, which is slower than JSON.stringify on the flat objects we log; fall
  // back to it only for cycles.
  function formatLine(level: unknown, info: Record<string, unknown>, generated?: ReadonlySet<string>): string {
    const out: Record<string, unknown> = { time: isoNow(), level };
    for (const key of Object.keys(info)) {
      if (key === 'level') continue;
      out[key === 'message' ? 'msg' : key] = generated?.has(key) ? info[key] : redactTop(key, info[key]);
    }
    try {
      return JSON.stringify(out);
    } catch {
      return JSON.stringify(redactor.redact(out));
    }
  }
  function redactTop(key: string, v: unknown): unknown {
    if (key === 'message') return typeof v === 'string' ? scrubText(v) : v;
    // A raw query string (the access line's `query`): parameter by parameter.
    if (key === 'query' && typeof v === 'string') return redactQueryString(v, redactor.logVerdict);
    const verdict = redactor.logVerdict(key);
    if (verdict === 'secret' || verdict === 'pii') return v === undefined || v === null || v === '' ? v : REDACTED;
    if (verdict === 'phone' && (typeof v === 'string' || typeof v === 'number')) return maskPhone(String(v));
    if (typeof v === 'string') return scrubText(v);
    return typeof v === 'object' && v !== null ? redactor.redact(v) : v;
  }
  const lineFormat = winston.format((info) => {
    (info as Record<symbol, unknown>)[MESSAGE] = formatLine(info[LEVEL as unknown as string] ?? info.level, info);
    return info;
  });

  const destination = lines ? new LinesTransport(lines) : new winston.transports.Stream({ stream: opts.stream as NodeJS.WritableStream });
  const defaultMeta = { service: opts.service, env: opts.environment };
  const logger = winston.createLogger({
    level: opts.level,
    defaultMeta,
    format: lineFormat(),
    transports: [destination],
    exitOnError: false,
  });
  const write = lines ? lines.write : (line: string) => (opts.stream as NodeJS.WritableStream).write(line);
  // winston's isLevelEnabled rebuilds its transport list three times per call (readable-stream
  // keeps a single pipe as a bare object, and the `transports` getter wraps it in a new filtered
  // array each time): 0.66 KB allocated per access line (bench/alloc.js). This logger has exactly one
  // transport, which the fast writer stands in for, so winston's answer reduces to this.
  const enabled = (level: string): boolean => {
    const given = logger.levels[level];
    const limit = logger.levels[destination.level ?? logger.level] ?? logger.levels[logger.level];
    return given !== undefined && limit !== undefined && limit >= given;
  };
  // The line logger.log(level, message, fields) writes: winston's record (default meta, the fields,
  // the message) through formatLine, with the trace fields instrumentation-winston appends. The
  // fast writer below takes this path only for fields that reuse one of the line's own keys.
  function recordLine(
    level: string,
    message: string,
    fields: Record<string, unknown>,
    spanContext: SpanContext | undefined,
    skip: ReadonlySet<string>,
  ): string {
    const trace =
      spanContext !== undefined && isValidSpanContext(spanContext)
        ? { trace_id: spanContext.traceId, span_id: spanContext.spanId, trace_flags: `0${spanContext.traceFlags.toString(16)}` }
        : undefined;
    return formatLine(level, { ...defaultMeta, ...fields, message, ...trace }, skip);
  }
  const meta = `"service":${JSON.stringify(defaultMeta.service)},"env":${JSON.stringify(defaultMeta.env)}`;
  FAST_WRITERS.set(logger, (level, message, fields, spanContext, generated) => {
    if (logger.silent || !enabled(level)) return;
    const skip = generated ?? WRITER_FIELDS;
    const keys = Object.keys(fields);
    for (const key of keys) if (LINE_KEYS.has(key)) return write(`${recordLine(level, message, fields, spanContext, skip)}\n`);
    // The same line as recordLine's, serialised from the caller's own object, its values replaced
    // by their redacted forms in place, with the writer's keys written around it. Measured, not
    // explained: JSON.stringify of recordLine's 16-key record, grown key by key, took 17 k
    // instructions per access line, of the caller's object literal 11 k (both are fast-mode
    // objects; bench/README.md, "Fifth round").
    for (const key of keys) if (!skip.has(key)) fields[key] = redactTop(key, fields[key]);
    let body: string;
    try {
      body = JSON.stringify(fields);
    } catch {
      body = JSON.stringify(redactor.redact(fields));
    }
    const msg = JSON.stringify(skip.has('message') ? message : redactTop('message', message));
    let line = `{"time":"${isoNow()}","level":"${level}",${meta}${body.length > 2 ? `,${body.slice(1, -1)}` : ''},"msg":${msg}`;
    if (spanContext !== undefined && isValidSpanContext(spanContext)) {
      line += `,"trace_id":"${spanContext.traceId}","span_id":"${spanContext.spanId}","trace_flags":"0${spanContext.traceFlags.toString(16)}"`;
    }
    write(`${line}}\n`);
  });

  const handle: LoggerHandle = {
    logger,
    redactor,
    flush() {
      try {
        // SonicBoom's own queue first, synchronously; then this turn's lines, written here rather
        // than handed to SonicBoom, which would start an asynchronous write the exit would cut.
        sonic?.flushSync();
        const rest = lines?.take();
        if (rest !== undefined) writeAllSync(1, rest);
      } catch {
        /* EAGAIN on a full pipe: nothing more we can do at exit */
      }
    },
  };
  if (lines) flushAtExit(handle);
  return handle;
}

/**
 * The current time as ISO 8601: `Date#toISOString` formats through snprintf (about 7,000
 * instructions a call, bench/README.md "Sixth round"), so it runs once per second for the
 * `YYYY-MM-DDTHH:MM:SS.` part and the milliseconds are appended. Same string as toISOString for
 * every time, pinned by test/unit/iso-time.test.ts.
 */
let lastSecond = Number.NaN;
let secondPrefix = '';
export function isoOf(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    secondPrefix = new Date(second * 1000).toISOString().slice(0, -4); // drop "000Z"
  }
  const milli = ms - second * 1000;
  return `${secondPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

function isoNow(): string {
  return isoOf(Date.now());
}

/**
 * Writes one line as `logger.log(level, message, fields)` would, inside the span `spanContext`.
 * `generated`: keys whose values the service itself made (ids, route templates, status, the
 * message constant), which the redaction pass would only re-check; every other key is redacted as
 * usual. It must include WRITER_FIELDS (see generatedFields). The writer may replace values of
 * `fields` with their redacted forms: pass an object made for this line.
 */
export type FastLineWriter = (
  level: 'info' | 'warn' | 'error',
  message: string,
  fields: Record<string, unknown>,
  spanContext: SpanContext | undefined,
  generated?: ReadonlySet<string>,
) => void;

/**
 * What the writer adds itself: configuration (service, env) and the span's hex ids. Redacting them
 * was ~3 % of busy time on GET /api/ping (a phone-number scan over every hex id, bench/README.md).
 */
const WRITER_FIELDS: ReadonlySet<string> = new Set(['service', 'env', 'trace_id', 'span_id', 'trace_flags']);

/** WRITER_FIELDS plus the caller's own generated keys, built once at setup, never per line. */
export function generatedFields(keys: readonly string[]): ReadonlySet<string> {
  return new Set([...WRITER_FIELDS, ...keys]);
}

/** Keys the writer puts on every line itself: a field of the same name takes its place in the line. */
const LINE_KEYS: ReadonlySet<string> = new Set(['time', 'level', 'service', 'env', 'message', 'msg', 'trace_id', 'span_id', 'trace_flags']);

const FAST_WRITERS = new WeakMap<Logger, FastLineWriter>();

/**
 * The per-request access line is the one log call on the hot path. winston pushes each record
 * through a Transform stream, a pipe and a Writable (plus instrumentation-winston's wrapper):
 * profiled at about half of the access-log cost on GET /api/ping (bench/README.md). For loggers
 * made by createLogger this returns a writer that produces the identical line directly; for any
 * other winston logger (tests may bring their own) it falls back to logger.log.
 */
export function lineWriterFor(logger: Logger): FastLineWriter {
  return (
    FAST_WRITERS.get(logger) ??
    ((level, message, fields) => {
      logger.log(level, message, fields);
    })
  );
}

/** Writes all of `buf` to `fd`, retrying a pipe that is full for up to ~1 s, then giving up. */
function writeAllSync(fd: number, buf: Buffer): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let off = 0, tries = 0; off < buf.length;) {
    try {
      off += writeSync(fd, buf, off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || ++tries > 100) throw err;
      Atomics.wait(pause, 0, 0, 10);
    }
  }
}

/**
 * What is still batched or buffered is written synchronously when the process exits (process.exit
 * included, which ends the turn before its batch would go out): one listener for all loggers.
 */
const atExit = new Set<LoggerHandle>();
function flushAtExit(handle: LoggerHandle): void {
  if (atExit.size === 0) process.once('exit', () => atExit.forEach((h) => h.flush()));
  atExit.add(handle);
}

/** winston's Stream transport insists on a Node stream; the turn batch is lighter, so adapt it. */
class LinesTransport extends Transport {
  constructor(private readonly lines: TurnBatch) {
    super();
  }
  override log(info: Record<symbol, unknown>, callback: () => void): void {
    this.lines.write(`${String(info[MESSAGE])}\n`);
    callback();
  }
}
