/**
 * A program with owners, on the dev server: a steering update from anyone else is refused by its
 * validator with the reason and changes nothing, a viewer is told they may only query, an owner's
 * goes through. Through the CLI the actor is the connection's identity: the OS user (unverified) is
 * refused, a JWT API key naming an owner approves, and the decision log and the Temporal history
 * name that owner.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { decisionLog } from '../schema/tables';
import { devServerProgramWorld, waitForStatus } from '../test/program-fixture';
import { approveGateUpdate, changeBudgetUpdate, pauseUpdate } from './messages';
import { programWorkflow } from './program';

jest.setTimeout(300_000);
const t = devServerProgramWorld('owners', { searchAttributes: false });

/** Program ids are unique per run: the dev server outlives a test run and keeps its workflows. */
const RUN = Date.now().toString(36);
const OWNERS = { owners: ['ann@example.com', 'os:ann'], viewers: ['bob@example.com'] };

async function startAtScopingGate(id: string): Promise<WorkflowHandle<typeof programWorkflow>> {
  await t.world.register(id, OWNERS);
  const handle = await t.client.workflow.start(programWorkflow, {
    workflowId: `program/${id}`,
    taskQueue: t.taskQueue,
    args: [{ programId: id }],
  });
  await waitForStatus(handle, (s) => s.gate?.name === 'scoping');
  return handle;
}

const decisions = async (programId: string) =>
  t.world.database.db
    .select({ kind: decisionLog.kind, actor: decisionLog.actor })
    .from(decisionLog)
    .where(eq(decisionLog.programId, programId));

let request = 0;
const steer = (actor: unknown) => ({ requestId: `owners-${++request}`, actor: actor as string });

test('only an owner steers: others are refused with the reason and nothing changes; a viewer may only query', async () => {
  const id = `owned-${RUN}`;
  const handle = await startAtScopingGate(id);
  const refusals: [unknown, RegExp][] = [
    ['mallory', new RegExp(`^mallory is not an owner of program ${id}; owners: ann@example\\.com, os:ann$`)],
    [
      'bob@example.com',
      new RegExp(`^bob@example\\.com is a viewer of program ${id} \\(viewers may only query\\); owners: `),
    ],
    // The verified name does not admit an OS user who claims it: only an owner listed as os:<user> does.
    ['os:ann@example.com (unverified)', /is not an owner of program/],
    [undefined, /must name its actor/],
  ];
  for (const [actor, reason] of refusals) {
    const refused = handle.executeUpdate(approveGateUpdate, { args: [{ ...steer(actor), gate: 'scoping' }] });
    await expect(refused).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    await expect(refused).rejects.toMatchObject({ cause: { message: expect.stringMatching(reason) } });
  }
  await expect(handle.executeUpdate(pauseUpdate, { args: [steer('mallory')] })).rejects.toMatchObject({
    cause: { message: expect.stringMatching(/mallory is not an owner/) },
  });
  await expect(
    handle.executeUpdate(changeBudgetUpdate, { args: [{ ...steer('bob@example.com'), usd: 1 }] }),
  ).rejects.toMatchObject({ cause: { message: expect.stringMatching(/is a viewer/) } });
  // Nothing changed: still at the gate, unpaused, same budget, nothing in the decision log.
  const status = await waitForStatus(handle, () => true);
  expect(status).toMatchObject({ status: 'waiting_gate', gate: { name: 'scoping' }, pausedReason: null, decisions: 0 });
  expect(await decisions(id)).toEqual([]);
  const approved = await handle.executeUpdate(approveGateUpdate, {
    args: [{ ...steer('os:ann (unverified: on call)'), gate: 'scoping' }],
  });
  expect(approved.applied).toBe(true);
  expect(await decisions(id)).toContainEqual({ kind: 'gate_approved', actor: 'os:ann (unverified: on call)' });
  await handle.cancel();
});

const jwt = (claims: Record<string, unknown>) =>
  [{ alg: 'ES256' }, claims].map((p) => Buffer.from(JSON.stringify(p)).toString('base64url')).join('.') + '.c2ln';

function judgeflow(
  env: Record<string, string>,
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.resolve(__dirname, '../bin/judgeflow.js'), ...args],
      {
        cwd: path.resolve(__dirname, '..'),
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: process.env.JUDGEFLOW_TEST_TEMPORAL_ADDRESS,
          TEMPORAL_NAMESPACE: 'default',
          DATABASE_URL: t.world.database.url,
          LOG_LEVEL: 'silent',
          ...env,
        },
      },
      (err, out, errOut) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out, err: errOut }),
    );
  });
}

test('the CLI acts as the connection identity: the unverified OS user is refused, an owner’s API key approves', async () => {
  const id = `owned-cli-${RUN}`;
  const handle = await startAtScopingGate(id);
  const osUser = os.userInfo().username;
  const [asOsUser, labelled] = await Promise.all([
    judgeflow({}, 'program', 'approve', id),
    judgeflow(
      { TEMPORAL_API_KEY: jwt({ sub: 'ann@example.com' }), TEMPORAL_TLS: 'false' },
      'program',
      'pause',
      id,
      '--actor',
      'bob',
    ),
  ]);
  expect(asOsUser.err).toContain(
    `refused: os:${osUser} (unverified) is not an owner of program ${id}; owners: ann@example.com, os:ann`,
  );
  expect(asOsUser.code).toBe(2);
  expect(labelled.err).toMatch(
    /--actor is not taken: this connection is authenticated as ann@example\.com \(API key\)/,
  );
  expect(labelled.code).toBe(2);
  expect(await decisions(id)).toEqual([]);

  const asAnn = await judgeflow(
    { TEMPORAL_API_KEY: jwt({ sub: 'ann@example.com' }), TEMPORAL_TLS: 'false' },
    'program',
    'approve',
    id,
    '--note',
    'estimate checked',
  );
  expect(asAnn).toMatchObject({ code: 0, out: expect.stringContaining('gate scoping approved') });
  expect(await decisions(id)).toContainEqual({ kind: 'gate_approved', actor: 'ann@example.com' });
  // The Temporal UI shows who: the update's request names the CLI's identity.
  const history = await handle.fetchHistory();
  const accepted = history.events?.find((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
  expect(accepted?.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.meta?.identity).toBe(
    'ann@example.com',
  );
  await handle.cancel();
});
