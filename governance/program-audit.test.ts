/**
 * Steering a running program on the dev server writes its audit rows through the workflow's
 * activities: one row per applied update, none for a refused one, and a cancellation names who
 * asked for it (the `requestCancel` update `program cancel` sends first), or no one.
 */
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { and, asc, eq } from 'drizzle-orm';
import { auditLog, decisionLog } from '../schema/tables';
import { devServerProgramWorld, waitForStatus } from '../test/program-fixture';
import { changeBudgetUpdate, pauseUpdate, requestCancelUpdate } from '../workflows/messages';
import { programWorkflow } from '../workflows/program';

jest.setTimeout(300_000);
const t = devServerProgramWorld('audit', { searchAttributes: false });
/** Program ids are unique per run: the dev server outlives a test run and keeps its workflows. */
const RUN = Date.now().toString(36);

async function startAtScopingGate(id: string, over: Record<string, unknown> = {}) {
  await t.world.register(id, over);
  const handle: WorkflowHandle<typeof programWorkflow> = await t.client.workflow.start(programWorkflow, {
    workflowId: `program/${id}`,
    taskQueue: t.taskQueue,
    args: [{ programId: id }],
  });
  await waitForStatus(handle, (s) => s.gate?.name === 'scoping');
  return handle;
}

/** The program's own changes (its registration's vendor rows are not steering). */
const audit = (programId: string) =>
  t.world.database.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.programId, programId), eq(auditLog.entity, 'program')))
    .orderBy(asc(auditLog.id));

test('an applied update writes one audit row, a refused one none; cancel names who asked for it', async () => {
  const id = `audit-${RUN}`;
  const handle = await startAtScopingGate(id, { owners: ['ann'] });
  const refused = [
    handle.executeUpdate(changeBudgetUpdate, { args: [{ requestId: 'a-1', actor: 'ann', usd: -5 }] }),
    handle.executeUpdate(pauseUpdate, { args: [{ requestId: 'a-2', actor: 'mallory' }] }),
    handle.executeUpdate(requestCancelUpdate, { args: [{ requestId: 'a-3', actor: 'mallory' }] }),
  ];
  for (const r of refused) await expect(r).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
  expect(await audit(id)).toEqual([]);

  await handle.executeUpdate(changeBudgetUpdate, {
    args: [{ requestId: 'a-4', actor: 'ann', usd: 900, note: 'more' }],
  });
  // A retried request is a no-op: still one row.
  await handle.executeUpdate(changeBudgetUpdate, {
    args: [{ requestId: 'a-4', actor: 'ann', usd: 900, note: 'more' }],
  });
  await handle.executeUpdate(requestCancelUpdate, {
    args: [{ requestId: 'a-5', actor: 'ann', note: 'wrong catalog' }],
  });
  await handle.cancel();
  expect((await handle.result()).status).toBe('cancelled');

  const rows = await audit(id);
  expect(rows.map((r) => [r.action, r.actor, r.requestId, r.after])).toEqual([
    ['budget_changed', 'ann', 'a-4', { budgetUsd: 900 }],
    ['cancelled', 'ann', 'a-5', { status: 'cancelled', phase: 'scoping' }],
  ]);
  expect(rows[1].data).toEqual({ phase: 'scoping', note: 'wrong catalog' });
  const [cancelled] = await t.world.database.db.select().from(decisionLog).where(eq(decisionLog.requestId, 'a-5'));
  expect([cancelled.kind, cancelled.actor]).toEqual(['cancelled', 'ann']);
});

test('a cancellation without a cancel request (the Temporal UI) is recorded as by no one known', async () => {
  const id = `audit-ui-${RUN}`;
  const handle = await startAtScopingGate(id);
  await handle.cancel();
  expect((await handle.result()).status).toBe('cancelled');
  const rows = await audit(id);
  expect(rows.map((r) => [r.action, r.actor, r.data])).toEqual([
    [
      'cancelled',
      'unknown',
      { phase: 'scoping', note: 'program cancelled outside judgeflow (no program cancel request)' },
    ],
  ]);
});
