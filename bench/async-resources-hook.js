'use strict';
/**
 * Preloaded (`node --require`) by bench/async-resources.js: counts the async resources the process
 * creates, by type, between two SIGUSR2 signals, and prints them on stderr as one JSON line
 * `{"asyncResources":{PROMISE:n,…}}` at the second. Each one runs AsyncLocalStorage's init hook when
 * the OpenTelemetry context is on, which is why their number per request is worth knowing.
 */
const { createHook } = require('node:async_hooks');

const counts = new Map();
let counting = false;
createHook({
  init(_id, type) {
    if (counting) counts.set(type, (counts.get(type) ?? 0) + 1);
  },
}).enable();
process.on('SIGUSR2', () => {
  if (!counting) {
    counts.clear();
    counting = true;
    return;
  }
  counting = false;
  process.stderr.write(`${JSON.stringify({ asyncResources: Object.fromEntries(counts) })}\n`);
});
