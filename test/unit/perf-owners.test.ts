import { resolve } from 'node:path';
import { expect } from 'chai';

// bench/perf-owners.js charges each perf sample to the package of its innermost JavaScript frame (a CommonJS bench script)
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ownerOf, functionOf } = require('../../bench/perf-owners') as {
  ownerOf: (frame: string) => string | undefined;
  functionOf: (frame: string) => string;
};

describe('bench/perf-owners.js: which package a perf frame belongs to', () => {
  it('names packages, scoped ones whole, the service by its own file, and Node by its module', () => {
    const cases: Array<[string, string | undefined]> = [
      ['7f01 JS:*_handleRowDescription /work/main/node_modules/pg/lib/client.js:444:24 (/tmp/perf-1.map)', 'pg'],
      ['7f02 JS:*startSpan /work/main/node_modules/@opentelemetry/sdk-trace/build/src/Tracer.js:42:14 (/tmp/perf-1.map)', '@opentelemetry/sdk-trace'],
      // a package's own "platform" folder is still that package
      ['7f03 JS:*get /work/main/node_modules/@opentelemetry/core/build/src/platform/index.js:11:83 (/tmp/perf-1.map)', '@opentelemetry/core'],
      ['7f04 JS:*settle /work/main/dist/platform/db/pool.js:103:28 (/tmp/perf-1.map)', 'caly:db/pool.js'],
      ['7f05 JS:*before /work/main/bench/results/builds/s3/modules/auth/middleware.js:105:15 (/tmp/perf-1.map)', 'caly:modules/auth'],
      ['7f06 JS:* /work/main/bench/peers/fastify-full.js:28:27 (/tmp/perf-1.map)', 'fastify-full.js'],
      ['7f07 JS:*_storeHeader node:_http_outgoing:410:22 (/tmp/perf-1.map)', 'node:_http_outgoing'],
      ['55aa Builtins_KeyedLoadIC_Megamorphic (/usr/bin/node)', undefined],
      ['ffff _raw_spin_unlock_irqrestore ([kernel.kallsyms])', undefined],
    ];
    for (const [frame, owner] of cases) expect(ownerOf(frame), frame).to.equal(owner);
  });
});

describe('bench/perf-owners.js --functions: which function a perf frame is', () => {
  it("keeps V8's tier marker, name and position, without the address, the map file or the checkout's folder", () => {
    const root = resolve(__dirname, '../..');
    const cases: Array<[string, string]> = [
      [
        `\t    7f01 JS:*_handleRowDescription ${root}/node_modules/pg/lib/client.js:444:24 (/tmp/perf-1.map)`,
        'JS:*_handleRowDescription node_modules/pg/lib/client.js:444:24',
      ],
      [`7f04 JS:^take ${root}/dist/platform/logging/turn-batch.js:19:18 (/tmp/perf-1.map)`, 'JS:^take dist/platform/logging/turn-batch.js:19:18'],
      ['7f07 JS:*_storeHeader node:_http_outgoing:410:22 (/tmp/perf-1.map)', 'JS:*_storeHeader node:_http_outgoing:410:22'],
    ];
    for (const [frame, fn] of cases) expect(functionOf(frame), frame).to.equal(fn);
  });
});
