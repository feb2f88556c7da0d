import SonicBoom from 'sonic-boom';
import winston from 'winston';
import Transport from 'winston-transport';
import { createRedactor, type RedactorApi } from './redact';

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
  const sonic = opts.stream ? undefined : new SonicBoom({ fd: 1, sync: false, minLength: 0 });

  // One format pass: redact, timestamp, serialise. logform's json() uses safe-stable-stringify,
  // which is slower than JSON.stringify on the flat objects we log; fall back to it only for cycles.
  const lineFormat = winston.format((info) => {
    const out: Record<string, unknown> = { time: new Date().toISOString(), level: info[LEVEL as unknown as string] ?? info.level };
    for (const key of Object.keys(info)) {
      if (key === 'level') continue;
      const v = info[key];
      out[key === 'message' ? 'msg' : key] =
        key !== 'message' && redactor.isSensitiveKey(key) ? '[REDACTED]' : typeof v === 'object' && v !== null ? redactor.redact(v) : v;
    }
    let line: string;
    try {
      line = JSON.stringify(out);
    } catch {
      line = JSON.stringify(redactor.redact(out));
    }
    (info as Record<symbol, unknown>)[MESSAGE] = line;
    return info;
  });

  const destination = sonic
    ? new SonicTransport(sonic)
    : new winston.transports.Stream({ stream: opts.stream as NodeJS.WritableStream });
  const logger = winston.createLogger({
    level: opts.level,
    defaultMeta: { service: opts.service, env: opts.environment },
    format: lineFormat(),
    transports: [destination],
    exitOnError: false,
  });

  return {
    logger,
    redactor,
    flush() {
      try {
        sonic?.flushSync();
      } catch {
        /* EAGAIN on a full pipe: nothing more we can do at exit */
      }
    },
  };
}

/** winston's Stream transport insists on a Node stream; SonicBoom is a lighter writer, so adapt it. */
class SonicTransport extends Transport {
  constructor(private readonly sonic: SonicBoom) {
    super();
  }
  override log(info: Record<symbol, unknown>, callback: () => void): void {
    this.sonic.write(`${String(info[MESSAGE])}\n`);
    callback();
  }
}
