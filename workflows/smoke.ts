import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { recordSmokeCheck } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 5 },
});

/** Proves the whole path: client → Temporal → worker → activity → Postgres → back. */
export async function smokeWorkflow(message: string): Promise<{ id: string; message: string; storedAt: string }> {
  return recordSmokeCheck(workflowInfo().workflowId, message);
}
