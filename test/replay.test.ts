/**
 * Every workflow has a committed history (recorded with UPDATE_HISTORIES=1 by the test that runs it);
 * replaying them against the current bundle catches determinism breaks before a deploy does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import * as workflows from '../workflows';
import { installQuietRuntime } from '../workers/worker';
import { loadWorkflowBundle } from '../workers/workflow-bundle';
import { HISTORIES_DIR } from './harness';

const files = fs.existsSync(HISTORIES_DIR) ? fs.readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json')) : [];

describe('replay of committed workflow histories', () => {
  test('every exported workflow has at least one recorded history', () => {
    const recordedTypes = new Set(
      files.map((f) => {
        const history = JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, f), 'utf8'));
        return history.events[0].workflowExecutionStartedEventAttributes.workflowType.name as string;
      }),
    );
    const missing = Object.keys(workflows).filter((name) => !recordedTypes.has(name));
    expect(missing).toEqual([]);
  });

  test.each(files)('%s replays deterministically', async (file) => {
    installQuietRuntime();
    const history = historyFromJSON(JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, file), 'utf8')));
    await Worker.runReplayHistory({ workflowBundle: await loadWorkflowBundle() }, history, file);
  });
});
