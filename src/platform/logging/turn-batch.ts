import { AsyncResource } from 'node:async_hooks';

export interface TurnBatch {
  /** Queues one line (with its newline); the turn's lines go out together when the turn ends. */
  write(line: string): void;
  /** Hands over what is queued now. */
  flush(): void;
  /** Removes and returns what is queued, for a caller that writes it itself (exit); undefined if nothing. */
  take(): Buffer | undefined;
}

/**
 * The lines of one event-loop turn handed to the log writer as one Buffer, right after the turn.
 *
 * Why: one Buffer per line meant one small pooled allocation per request, and those buffers wait in
 * SonicBoom for the thread pool's write; under load their 8 KB pool slabs piled up as ArrayBuffer
 * memory until a mark-compact (8 → 17 MB in 10 s on GET /api/ping; bench/README.md, "Fourth
 * round"). A line still reaches the writer in the turn it was logged in (no timer, no size
 * threshold), and every line of the process goes through one instance, so the order is kept.
 * setImmediate is bound to the start-up context: an Immediate keeps the OpenTelemetry context it
 * was scheduled in, and that would be a request's.
 */
export function turnBatch(sink: (batch: Buffer) => void): TurnBatch {
  let pending: string[] = [];
  let scheduled = false;

  function take(): Buffer | undefined {
    scheduled = false;
    if (pending.length === 0) return undefined;
    const batch = pending.length === 1 ? pending[0]! : pending.join('');
    pending = [];
    return Buffer.from(batch);
  }
  function flush(): void {
    const batch = take();
    if (batch !== undefined) sink(batch);
  }
  const schedule = AsyncResource.bind((): void => void setImmediate(flush));

  return {
    write(line) {
      pending.push(line);
      if (scheduled) return;
      scheduled = true;
      schedule();
    },
    flush,
    take,
  };
}
