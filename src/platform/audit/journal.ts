import { chmod, mkdir, open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { claimDirectory, type DirectoryOwnership } from '../lifecycle/directory-owner';
import type { Logger } from '../logging/logger';
import type { AuditRecord } from './record';

const SEGMENT = /^seg-(\d{12})\.jsonl$/;
export const segmentName = (no: number) => `seg-${String(no).padStart(12, '0')}.jsonl`;

/**
 * The local write-ahead journal: append-only JSON-lines segment files. Lines appended during one
 * event-loop turn are written with one write (setImmediate), so a burst costs one syscall, and
 * every file operation (write, unlink) runs in order on one promise chain.
 *
 * Each segment counts its events not yet stored in PostgreSQL (`pending`). A segment is deleted
 * only when it is closed and its count reaches zero, that is after the batches holding all its
 * events committed; the active segment is rotated out as soon as its count reaches zero, so that
 * in steady state the journal holds only the last few hundred milliseconds of events.
 *
 * Durability: a completed write(2) is in the page cache and survives SIGKILL of this process.
 * There is no fsync per turn (it would cost milliseconds per request): a power loss can lose the
 * last moments of events, which docs/audit.md states.
 */
export class Journal {
  private active = 0;
  private readonly pending = new Map<number, number>();
  private readonly closed = new Set<number>();
  private pendingTotal = 0;
  private activeLines = 0;

  private buffer: string[] = [];
  private bufferSeg = 0;
  private scheduled = false;
  private turn: { promise: Promise<void>; resolve: () => void } | undefined;
  /** Every file operation, in order. Never rejects. */
  private ops: Promise<void> = Promise.resolve();
  private fh: FileHandle | undefined;
  private fhSeg = -1;
  private ownership: DirectoryOwnership | undefined;

  constructor(
    private dir: string,
    private readonly logger: Logger,
    private readonly onWriteError: (lines: number, seg: number) => void,
  ) {}

  /**
   * Creates the directory (`dir` replaces the constructor's, so the caller can scope it once it
   * knows which database it feeds); returns the segments a previous run left behind, oldest first.
   */
  async open(dir = this.dir): Promise<number[]> {
    this.dir = dir;
    // Owner-only: the journal holds audit events (addresses, user ids, metadata) in clear.
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
    await this.claim();
    const found = (await readdir(this.dir))
      .map((f) => SEGMENT.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    for (const no of found) this.closed.add(no);
    this.active = (found.at(-1) ?? 0) + 1;
    return found;
  }

  get path(): string {
    return this.dir;
  }

  /**
   * One process per journal directory: a second live writer would replay and delete the first
   * one's live segments. The lock is released by the kernel when its owner dies
   * (lifecycle/directory-owner.ts), so a crash never blocks the restart that replays the journal.
   */
  private async claim(): Promise<void> {
    this.ownership = await claimDirectory(
      this.dir,
      'caly-api audit journal',
      'Give each replica its own AUDIT_JOURNAL_DIR (and its own DATA_DIR), or stop the other process.',
    );
    // The pid file an older version used as its lock means nothing now.
    await unlink(join(this.dir, 'owner.json')).catch(() => undefined);
  }

  get activeSegment(): number {
    return this.active;
  }
  get activeSegmentLines(): number {
    return this.activeLines;
  }
  /** Events journaled (or being journaled) and not yet confirmed stored. */
  get pendingEvents(): number {
    return this.pendingTotal;
  }

  /** Queues one line for the active segment; written at the end of this event-loop turn. */
  append(line: string): number {
    if (this.buffer.length > 0 && this.bufferSeg !== this.active) this.writeOut();
    this.bufferSeg = this.active;
    this.buffer.push(line);
    this.activeLines++;
    this.pending.set(this.active, (this.pending.get(this.active) ?? 0) + 1);
    this.pendingTotal++;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.writeOut());
    }
    return this.active;
  }

  /** Resolves when every line appended so far is written (or its write has failed and been reported). */
  flush(): Promise<void> {
    if (this.buffer.length === 0) return this.ops;
    this.turn ??= deferred();
    return this.turn.promise;
  }

  /** Closes the active segment (later lines go to a new one) and returns its number. */
  rotate(): number {
    this.writeOut();
    const no = this.active;
    this.closed.add(no);
    this.active++;
    this.activeLines = 0;
    return no;
  }

  /** Marks one event of segment `no` as stored; deletes the segment once none is left. */
  settle(no: number): void {
    const left = (this.pending.get(no) ?? 0) - 1;
    this.pendingTotal = Math.max(0, this.pendingTotal - 1);
    if (left > 0) {
      this.pending.set(no, left);
      return;
    }
    this.pending.delete(no);
    if (no === this.active) {
      if (this.activeLines === 0) return;
      this.rotate();
    }
    if (this.closed.has(no)) this.remove(no);
  }

  /** After re-reading a closed segment: its pending count is what it holds. */
  setPending(no: number, count: number): void {
    const before = this.pending.get(no) ?? 0;
    this.pendingTotal += count - before;
    if (count > 0) this.pending.set(no, count);
    else {
      this.pending.delete(no);
      this.remove(no);
    }
  }

  /** Reads a closed segment once every write queued before has landed. Torn or bad lines are skipped. */
  async read(no: number): Promise<AuditRecord[]> {
    this.writeOut();
    await this.ops;
    let text: string;
    try {
      text = await readFile(join(this.dir, segmentName(no)), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: AuditRecord[] = [];
    let bad = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        const r = JSON.parse(line) as AuditRecord;
        if (typeof r.eventId === 'string' && typeof r.type === 'string') out.push(r);
        else bad++;
      } catch {
        bad++; // a line cut short by a crash mid-write: its request was never answered
      }
    }
    if (bad > 0) this.logger.warn('audit journal: skipped unreadable lines', { segment: no, lines: bad });
    return out;
  }

  /** Writes whatever is buffered and releases the file. */
  async close(): Promise<void> {
    this.writeOut();
    this.ops = this.ops.then(() => this.closeFile());
    await this.ops;
    await this.ownership?.release();
    this.ownership = undefined;
  }

  private remove(no: number): void {
    this.closed.delete(no);
    this.ops = this.ops.then(async () => {
      if (this.fhSeg === no) await this.closeFile();
      await unlink(join(this.dir, segmentName(no))).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') this.logger.warn('audit journal: could not delete a stored segment', { segment: no, error: err.message });
      });
    });
  }

  private writeOut(): void {
    this.scheduled = false;
    const turn = this.turn;
    this.turn = undefined;
    if (this.buffer.length === 0) {
      turn?.resolve();
      return;
    }
    const lines = this.buffer.length;
    const data = Buffer.from(`${this.buffer.join('\n')}\n`, 'utf8');
    const seg = this.bufferSeg;
    this.buffer = [];
    this.ops = this.ops
      .then(() => this.write(seg, data))
      .catch((err: Error) => {
        this.logger.error('audit journal write failed', { segment: seg, lines, error: err.message });
        this.onWriteError(lines, seg);
      })
      .finally(() => turn?.resolve());
  }

  private async write(seg: number, data: Buffer): Promise<void> {
    if (this.fhSeg !== seg) {
      await this.closeFile();
      this.fh = await open(join(this.dir, segmentName(seg)), 'a', 0o600);
      this.fhSeg = seg;
    }
    let off = 0;
    while (off < data.length) off += (await this.fh!.write(data, off)).bytesWritten;
  }

  private async closeFile(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    this.fhSeg = -1;
    await fh?.close().catch(() => undefined);
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
