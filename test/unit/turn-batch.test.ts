import { expect } from 'chai';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { turnBatch } from '../../src/platform/logging/turn-batch';

/**
 * The log's per-turn batch (logging/turn-batch.ts): the lines of one event-loop turn reach the
 * writer together, right after the turn, in order and complete; lines of the next turn make the
 * next batch; flush() hands over what is queued at once.
 */
describe('log lines batched per event-loop turn (logging/turn-batch.ts)', () => {
  function recorder() {
    const batches: string[] = [];
    return { batches, lines: turnBatch((b) => batches.push(b.toString('utf8'))) };
  }

  it('hands a turn’s lines over together after the turn, in order, none lost', async () => {
    const { batches, lines } = recorder();
    const sent = Array.from({ length: 300 }, (_, i) => `{"n":${i},"msg":"request é"}\n`);
    for (const l of sent) lines.write(l);
    expect(batches).to.deep.equal([]); // nothing before the turn ends
    await nextTurn();
    expect(batches).to.deep.equal([sent.join('')]);
  });

  it('each turn makes its own batch', async () => {
    const { batches, lines } = recorder();
    lines.write('a\n');
    lines.write('b\n');
    await nextTurn();
    lines.write('c\n');
    await nextTurn();
    await nextTurn(); // an idle turn writes nothing
    expect(batches).to.deep.equal(['a\nb\n', 'c\n']);
  });

  it('flush() hands over what is queued at once, and the scheduled turn then writes nothing more', async () => {
    const { batches, lines } = recorder();
    lines.write('x\n');
    lines.write('y\n');
    lines.flush();
    expect(batches).to.deep.equal(['x\ny\n']);
    await nextTurn();
    expect(batches).to.deep.equal(['x\ny\n']);
    lines.write('z\n'); // still batched normally afterwards
    await nextTurn();
    expect(batches).to.deep.equal(['x\ny\n', 'z\n']);
  });
});
