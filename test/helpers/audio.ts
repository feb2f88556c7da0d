/**
 * Minimal but structurally real audio files for upload tests: what a container parser accepts.
 * Built here rather than stored as binary fixtures so each field is visible.
 */

/** PCM WAV: RIFF header, fmt chunk, data chunk of `samples` 16-bit mono samples at 8 kHz. */
export function wav(samples: number): Buffer {
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) data.writeInt16LE(Math.round(Math.sin(i / 7) * 12_000), i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(8000, 24);
  h.writeUInt32LE(16_000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

/** MPEG-1 Layer III frames, 128 kbit/s, 44.1 kHz, no padding (417 bytes each), with or without an ID3v2.4 tag. */
export function mp3(frames: number, id3 = true): Buffer {
  const frame = Buffer.alloc(417, 0x55);
  frame.writeUInt32BE(0xfffb9064, 0);
  const tag = Buffer.from([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 10, ...Buffer.alloc(10)]);
  return Buffer.concat([...(id3 ? [tag] : []), ...Array.from({ length: frames }, () => frame)]);
}

/** An Ogg Opus stream's first page (beginning of stream, OpusHead), then filler pages' bytes. */
export function oggOpus(extra = 1000): Buffer {
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0, 'latin1');
  head[8] = 1; // version
  head[9] = 1; // channels
  head.writeUInt16LE(312, 10);
  head.writeUInt32LE(48_000, 12);
  const page = Buffer.alloc(27);
  page.write('OggS', 0, 'latin1');
  page[4] = 0;
  page[5] = 0x02; // beginning of stream
  page.writeUInt32LE(0x1234, 14); // serial
  page[26] = 1; // one segment
  return Buffer.concat([page, Buffer.from([head.length]), head, Buffer.alloc(extra, 7)]);
}

/** FLAC: marker, STREAMINFO (4096-sample blocks, 44.1 kHz, mono, 16 bit), then frame bytes. */
export function flac(extra = 1000): Buffer {
  const info = Buffer.alloc(34);
  info.writeUInt16BE(4096, 0);
  info.writeUInt16BE(4096, 2);
  // sample rate (20 bits) | channels - 1 (3 bits) | bits per sample - 1 (5 bits)
  const rate = 44_100;
  info[10] = (rate >> 12) & 0xff;
  info[11] = (rate >> 4) & 0xff;
  info[12] = ((rate & 0x0f) << 4) | (0 << 1) | (15 >> 4);
  info[13] = (15 & 0x0f) << 4;
  return Buffer.concat([Buffer.from('fLaC', 'latin1'), Buffer.from([0x80, 0, 0, 34]), info, Buffer.alloc(extra, 9)]);
}
