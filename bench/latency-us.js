'use strict';
/**
 * Latencies to the microsecond, as the load generators (bench/load.js, bench/steady.js) record and
 * report them: an HDR histogram of whole microseconds, from 1 µs to 60 s, to 3 significant digits.
 */
const hdr = require('hdr-histogram-js');

const histogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });

/** Records a latency measured in (fractional) milliseconds. */
function recordMs(h, ms) {
  h.recordValue(Math.max(1, Math.round(ms * 1000)));
}

/** What a result carries of a histogram, in µs. */
function summary(h) {
  const at = (p) => h.getValueAtPercentile(p);
  return { count: h.totalCount, mean: h.mean, p50: at(50), p90: at(90), p99: at(99), p99_9: at(99.9), max: h.maxValue };
}

module.exports = { histogram, recordMs, summary };
