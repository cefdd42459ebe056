import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

export const WORKFLOWS_PATH = path.resolve(__dirname, '../workflows/index.ts');

/**
 * The workflow bundle: from JUDGEFLOW_WORKFLOW_BUNDLE when a prebuilt one is given (tests and
 * benchmarks bundle once and share it), otherwise bundled now from workflows/.
 */
export async function loadWorkflowBundle(): Promise<{ code: string }> {
  const prebuilt = process.env.JUDGEFLOW_WORKFLOW_BUNDLE;
  if (prebuilt && fs.existsSync(prebuilt)) return { code: fs.readFileSync(prebuilt, 'utf8') };
  return bundleWorkflows();
}

export async function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error, log: noop };
