import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';

/** The part of our winston logger the SDK's diagnostics need. */
export interface DiagSink {
  warn(msg: string, meta?: Record<string, unknown>): void;
  error(msg: string, meta?: Record<string, unknown>): void;
}

const EARLY_LIMIT = 100;

/**
 * Routes the OpenTelemetry SDK's own diagnostics (dropped spans, failed exports, bad
 * configuration) into the service log. Without a diag logger the SDK reports them nowhere.
 *
 * Telemetry starts before winston may be loaded (the instrumentations must see it load first),
 * so messages that arrive before the logger is attached are held, up to a bound, and written
 * when it is.
 */
export class DiagToLog implements DiagLogger {
  private sink: DiagSink | undefined;
  private early: Array<{ level: 'warn' | 'error'; msg: string; args: unknown[] }> = [];
  private earlyDropped = 0;

  install(level: DiagLogLevel = DiagLogLevel.WARN): this {
    diag.setLogger(this, { logLevel: level, suppressOverrideMessage: true });
    return this;
  }

  attach(sink: DiagSink): void {
    this.sink = sink;
    for (const m of this.early) this.write(m.level, m.msg, m.args);
    if (this.earlyDropped > 0) sink.warn('opentelemetry diagnostics dropped before the log was ready', { count: this.earlyDropped });
    this.early = [];
  }

  error = (msg: string, ...args: unknown[]): void => this.write('error', msg, args);
  warn = (msg: string, ...args: unknown[]): void => this.write('warn', msg, args);
  // Below WARN the SDK is chatty (every export, every patched module): never wanted in production logs.
  info = (): void => undefined;
  debug = (): void => undefined;
  verbose = (): void => undefined;

  private write(level: 'warn' | 'error', msg: string, args: unknown[]): void {
    if (!this.sink) {
      if (this.early.length < EARLY_LIMIT) this.early.push({ level, msg, args });
      else this.earlyDropped++;
      return;
    }
    const detail = args.map(describe).filter(Boolean).join('; ').slice(0, 500);
    this.sink[level](msg, { component: 'opentelemetry', ...(detail ? { detail } : {}) });
  }
}

/** An argument the SDK passes along (usually an Error): its name and message only, never a dump. */
function describe(a: unknown): string {
  if (a instanceof Error) return `${a.name}: ${a.message}`;
  if (typeof a === 'string' || typeof a === 'number') return String(a);
  return '';
}
