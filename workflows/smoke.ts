import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { DATABASE } from './activity-options';

const { recordSmokeCheck } = proxyActivities<Activities>(DATABASE);

/** Proves the whole path: client → Temporal → worker → activity → Postgres → back. */
export async function smokeWorkflow(message: string): Promise<{ id: string; message: string; storedAt: string }> {
  return recordSmokeCheck(workflowInfo().workflowId, message);
}
