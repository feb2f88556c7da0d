import type { Server } from 'node:http';
import type { Logger } from '../logging/logger';

type Hook = { name: string; run: () => Promise<void> | void };

export interface ShutdownOptions {
  server: Server;
  logger: Logger;
  drainDelayMs: number;
  timeoutMs: number;
  /** Runs last, after the final log line, so that line reaches the log too. */
  flushLogs?: () => void;
}

/**
 * One owner of process shutdown. On SIGTERM/SIGINT: readiness fails at once, we wait the drain
 * delay (so load balancers stop sending), stop accepting, let in-flight requests finish within
 * the bound, then run the close hooks in order (background work, pool, telemetry) and exit 0.
 */
export class Lifecycle {
  private shuttingDown = false;
  private readonly hooks: Hook[] = [];
  private inflight = 0;
  private idleWaiters: Array<() => void> = [];
  private done: Promise<void> | undefined;

  constructor(private readonly opts: ShutdownOptions) {
    const { server } = opts;
    server.on('request', (_req, res) => {
      this.inflight++;
      // While draining, every response tells its client to reconnect elsewhere.
      if (this.shuttingDown) res.setHeader('Connection', 'close');
      res.on('close', () => {
        if (--this.inflight === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    });
  }

  isShuttingDown = (): boolean => this.shuttingDown;

  /** Hooks run in registration order after the HTTP server has drained. */
  onShutdown(name: string, run: Hook['run']): void {
    this.hooks.push({ name, run });
  }

  installSignalHandlers(exit: (code: number) => void = (c) => process.exit(c)): void {
    const handler = (signal: NodeJS.Signals) => {
      this.opts.logger.info('shutdown requested', { signal });
      void this.shutdown().then(
        () => exit(0),
        () => exit(1),
      );
    };
    process.once('SIGTERM', handler);
    process.once('SIGINT', handler);
  }

  shutdown(): Promise<void> {
    this.done ??= this.run();
    return this.done;
  }

  /**
   * SHUTDOWN_TIMEOUT_MS bounds everything after the drain delay: requests in flight get up to two
   * thirds of it, the close hooks share what is left, each cut off at the deadline (a database that
   * stopped answering must not hold the process: audit events still pending stay journaled for the
   * next start). A hook always gets a short minimum, so the bound is overrun by at most a moment.
   */
  private async run(): Promise<void> {
    const { server, logger, drainDelayMs, timeoutMs } = this.opts;
    this.shuttingDown = true;
    if (drainDelayMs > 0) await sleep(drainDelayMs);
    const deadline = Date.now() + timeoutMs;

    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const drained = this.inflight === 0 ? Promise.resolve() : new Promise<void>((r) => this.idleWaiters.push(r));
    const inTime = await Promise.race([drained.then(() => true), sleep(Math.floor((timeoutMs * 2) / 3)).then(() => false)]);
    if (!inTime) logger.warn('shutdown timeout: closing connections with requests still in flight', { inflight: this.inflight });
    server.closeAllConnections();
    await closed;

    let failed = false;
    for (const hook of this.hooks) {
      const budget = Math.max(HOOK_MINIMUM_MS, deadline - Date.now());
      try {
        const finished = await Promise.race([
          Promise.resolve()
            .then(hook.run)
            .then(() => true),
          sleep(budget).then(() => false),
        ]);
        if (!finished) {
          failed = true;
          logger.error('shutdown hook did not finish in time; moving on', { hook: hook.name, budget_ms: budget });
        }
      } catch (err) {
        failed = true;
        logger.error('shutdown hook failed', { hook: hook.name, error: { message: (err as Error).message } });
      }
    }
    logger.info('shutdown complete', { clean: !failed && inTime });
    // winston hands a line to its transport on a later tick: let it arrive, then flush.
    await new Promise((r) => setImmediate(r));
    this.opts.flushLogs?.();
  }
}

const HOOK_MINIMUM_MS = 100;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
