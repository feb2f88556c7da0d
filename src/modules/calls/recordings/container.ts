/**
 * Audio container validation by parsing the headers, never by the client's Content-Type, file
 * name, or a few magic bytes (`ID3` followed by anything passed before). Hand-written: the
 * maintained parsers (music-metadata, file-type) are ESM-only and read hundreds of formats we must
 * refuse anyway; the four we accept have small, fixed headers. Each parser checks the structure a
 * player would rely on: WAV's fmt and data chunks, two consecutive MPEG audio frames, Ogg's first
 * page and codec header, FLAC's STREAMINFO block.
 */
export interface AudioType {
  ext: 'wav' | 'mp3' | 'ogg' | 'flac';
  mime: string;
}

/** Bytes of the upload kept in memory for validation. */
export const HEAD_BYTES = 64 * 1024;

const ascii = (b: Buffer, from: number, to: number) => b.subarray(from, to).toString('latin1');

/** RIFF/WAVE: a plausible fmt chunk, then a data chunk, each within the file. */
function isWav(b: Buffer, total: number): boolean {
  if (b.length < 12 || ascii(b, 0, 4) !== 'RIFF' || ascii(b, 8, 12) !== 'WAVE') return false;
  const riffSize = b.readUInt32LE(4);
  if (riffSize !== 0xffffffff && (riffSize < 4 || riffSize + 8 > total)) return false;
  let off = 12;
  let fmt = false;
  while (off + 8 <= b.length) {
    const id = ascii(b, off, off + 4);
    const size = b.readUInt32LE(off + 4);
    if (!/^[\x20-\x7e]{4}$/.test(id)) return false;
    if (id === 'fmt ') {
      if (size < 16 || off + 8 + 16 > b.length) return false;
      const format = b.readUInt16LE(off + 8);
      const channels = b.readUInt16LE(off + 10);
      const rate = b.readUInt32LE(off + 12);
      const blockAlign = b.readUInt16LE(off + 20);
      const bits = b.readUInt16LE(off + 22);
      // PCM, ADPCM, IEEE float, A-law, mu-law, IMA ADPCM, GSM 6.10, extensible
      if (![1, 2, 3, 6, 7, 0x11, 0x31, 0xfffe].includes(format)) return false;
      if (channels < 1 || channels > 8 || rate < 1000 || rate > 384_000 || blockAlign < 1 || bits > 64) return false;
      fmt = true;
    } else if (id === 'data') {
      return fmt && size > 0 && (size === 0xffffffff || off + 8 + size <= total + 1);
    }
    off += 8 + size + (size % 2);
  }
  return false;
}

const BITRATES: Record<string, readonly number[]> = {
  // kbit/s by index 1..14, per (MPEG version 1 | 2/2.5) and layer
  V1L1: [32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  V1L2: [32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  V1L3: [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  V2L1: [32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  V2L23: [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const RATES: Record<number, readonly number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

/** The length of the MPEG audio frame whose header starts at `off`, or 0 when it is not one. */
function mpegFrameLength(b: Buffer, off: number): number {
  if (off + 4 > b.length || b[off] !== 0xff || (b[off + 1]! & 0xe0) !== 0xe0) return 0;
  const version = (b[off + 1]! >> 3) & 3; // 0: 2.5, 2: 2, 3: 1 (1 is reserved)
  const layer = (b[off + 1]! >> 1) & 3; // 1: III, 2: II, 3: I (0 is reserved)
  const bitrateIndex = b[off + 2]! >> 4;
  const rateIndex = (b[off + 2]! >> 2) & 3;
  const padding = (b[off + 2]! >> 1) & 1;
  if (version === 1 || layer === 0 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return 0;
  const table = version === 3 ? (layer === 3 ? 'V1L1' : layer === 2 ? 'V1L2' : 'V1L3') : layer === 3 ? 'V2L1' : 'V2L23';
  const bitrate = BITRATES[table]![bitrateIndex - 1]! * 1000;
  const rate = RATES[version]![rateIndex]!;
  if (layer === 3) return (Math.floor((12 * bitrate) / rate) + padding) * 4;
  const perFrame = layer === 1 && version !== 3 ? 72 : 144;
  return Math.floor((perFrame * bitrate) / rate) + padding;
}

/** MP3: an optional ID3v2 tag, then a frame header followed by another one where the first ends. */
function isMp3(b: Buffer, total: number): boolean {
  let off = 0;
  if (b.length >= 10 && ascii(b, 0, 3) === 'ID3') {
    const [major, , flags, s0, s1, s2, s3] = [b[3]!, b[4]!, b[5]!, b[6]!, b[7]!, b[8]!, b[9]!];
    if (major < 2 || major > 4 || (s0 | s1 | s2 | s3) & 0x80) return false;
    off = 10 + ((s0 << 21) | (s1 << 14) | (s2 << 7) | s3) + (flags & 0x10 ? 10 : 0);
  }
  const first = mpegFrameLength(b, off);
  if (first === 0) return false;
  const next = off + first;
  if (next === total) return true; // a single-frame file
  if (next + 4 > b.length) return false;
  return mpegFrameLength(b, next) > 0;
}

/** Ogg: a first page (version 0, beginning-of-stream) whose payload opens with a known audio codec header. */
function isOgg(b: Buffer): boolean {
  if (b.length < 28 || ascii(b, 0, 4) !== 'OggS' || b[4] !== 0 || (b[5]! & 0x02) === 0) return false;
  const segments = b[26]!;
  const start = 27 + segments;
  if (start + 8 > b.length) return false;
  const payload = b.subarray(start, start + 8);
  return ascii(payload, 0, 8) === 'OpusHead' || ascii(payload, 1, 7) === 'vorbis' || ascii(payload, 0, 8) === 'Speex   ' || ascii(payload, 1, 5) === 'FLAC';
}

/** FLAC: `fLaC`, then STREAMINFO (block type 0, 34 bytes) with a real sample rate and block sizes. */
function isFlac(b: Buffer): boolean {
  if (b.length < 42 || ascii(b, 0, 4) !== 'fLaC' || (b[4]! & 0x7f) !== 0 || b.readUIntBE(5, 3) !== 34) return false;
  const minBlock = b.readUInt16BE(8);
  const maxBlock = b.readUInt16BE(10);
  const rate = (b[18]! << 12) | (b[19]! << 4) | (b[20]! >> 4);
  return minBlock >= 16 && maxBlock >= minBlock && rate > 0 && rate <= 655_350;
}

/** The audio type of an upload from its first bytes (`head`) and total size, or null when it is not valid audio. */
export function parseAudioContainer(head: Buffer, total: number): AudioType | null {
  if (isWav(head, total)) return { ext: 'wav', mime: 'audio/wav' };
  if (isOgg(head)) return { ext: 'ogg', mime: 'audio/ogg' };
  if (isFlac(head)) return { ext: 'flac', mime: 'audio/flac' };
  if (isMp3(head, total)) return { ext: 'mp3', mime: 'audio/mpeg' };
  return null;
}
