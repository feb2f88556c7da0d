'use strict';
/**
 * A deliberately slow log consumer for bench/log-blocking.js, standing in for a log shipper that
 * falls behind: reads stdin at most  READ_BYTES_PER_TICK bytes every TICK_MS (default 4 KB per
 * 100 ms = 40 KB/s, far slower than the service logs under load) and appends what it read to
 * the file argv[2]. Exits at end of input.
 */
const fs = require('node:fs');

const out = fs.openSync(process.argv[2], 'w');
const chunk = Number(process.env.READ_BYTES_PER_TICK || 4096);
const tickMs = Number(process.env.TICK_MS || 100);
const buf = Buffer.alloc(chunk);
const nap = new Int32Array(new SharedArrayBuffer(4));

for (;;) {
  let n;
  try {
    n = fs.readSync(0, buf, 0, chunk, null); // blocks until the writer writes: fine, nothing else to do
  } catch (err) {
    if (err.code === 'EAGAIN') n = -1;
    else throw err;
  }
  if (n === 0) break;
  if (n > 0) fs.writeSync(out, buf, 0, n);
  Atomics.wait(nap, 0, 0, tickMs);
}
