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

export interface AudioType {
  ext: 'wav' | 'mp3' | 'ogg' | 'flac';
  mime: string;
}

/**
 * The audio type from the first bytes, never from the client's Content-Type or file name.
 * Hand-written: the only maintained sniffing library (file-type) is ESM-only and knows hundreds of
 * formats we must refuse anyway; four signatures are a few lines.
 */
export function sniffAudio(head: Buffer): AudioType | null {
  const ascii = (from: number, to: number) => head.subarray(from, to).toString('latin1');
  if (head.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE') return { ext: 'wav', mime: 'audio/wav' };
  if (head.length >= 4 && ascii(0, 4) === 'OggS') return { ext: 'ogg', mime: 'audio/ogg' };
  if (head.length >= 4 && ascii(0, 4) === 'fLaC') return { ext: 'flac', mime: 'audio/flac' };
  if (head.length >= 3 && ascii(0, 3) === 'ID3') return { ext: 'mp3', mime: 'audio/mpeg' };
  // MPEG audio frame sync: 11 set bits, then a version other than "reserved" (01) and a layer
  // other than "reserved" (00), which also rules out AAC's ADTS header (layer 00).
  if (head.length >= 2 && head[0] === 0xff && (head[1]! & 0xe0) === 0xe0 && (head[1]! & 0x18) !== 0x08 && (head[1]! & 0x06) !== 0) {
    return { ext: 'mp3', mime: 'audio/mpeg' };
  }
  return null;
}
