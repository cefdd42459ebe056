import { spawnSync } from 'node:child_process';
import { missingThroughputFlags, THROUGHPUT_NODE_FLAGS } from './node-flags';

describe('missingThroughputFlags', () => {
  it('names the flags a process was started without', () => {
    expect(missingThroughputFlags([], '')).toEqual(THROUGHPUT_NODE_FLAGS);
  });

  it('takes them from the command line or NODE_OPTIONS, with any value the operator chose', () => {
    expect(missingThroughputFlags(['--max-semi-space-size=32'], '')).toEqual([]);
    expect(missingThroughputFlags([], '--enable-source-maps --max_semi_space_size=128')).toEqual([]);
    expect(missingThroughputFlags(['--max-old-space-size=4096'], '--enable-source-maps')).toEqual(
      THROUGHPUT_NODE_FLAGS,
    );
  });

  it('are flags V8 takes at start: the young generation grows to 64 MB semi-spaces', () => {
    const script =
      'let keep = []; for (let i = 0; i < 2e6; i++) { keep.push({ i }); if (keep.length > 300000) keep = []; }' +
      "console.log(require('v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size)";
    const youngBytes = (flags: string[]) =>
      Number(spawnSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8' }).stdout.trim());
    expect(youngBytes(THROUGHPUT_NODE_FLAGS)).toBeGreaterThan(youngBytes([]));
  });
});
