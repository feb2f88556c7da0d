import { resolve, sep } from 'node:path';

/**
 * Recordings live under RECORDINGS_DIR as `<tenant id>/<random uuid>.<ext>`: names are generated,
 * never taken from the client, and the database constraint on calls.recording_path only admits
 * that shape. `recordingFile` still refuses anything that would resolve outside the directory.
 */
export function recordingFile(dir: string, relative: string): string {
  const root = resolve(dir);
  const full = resolve(root, relative);
  if (!full.startsWith(root + sep)) throw new Error('recording path escapes RECORDINGS_DIR');
  return full;
}
