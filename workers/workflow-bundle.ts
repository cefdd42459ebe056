import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

export const WORKFLOWS_PATH = path.resolve(__dirname, '../workflows/index.ts');

/** The OpenTelemetry workflow interceptors (spans for the workflow, its activities and children, exported through a sink). */
const TRACING_INTERCEPTORS = require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/**
 * The workflow bundle: from JUDGEFLOW_WORKFLOW_BUNDLE when a prebuilt one is given (tests and
 * benchmarks bundle once and share it), otherwise bundled now from workflows/. A tracing worker's
 * bundle has the tracing interceptors in it, and is always bundled now.
 */
export async function loadWorkflowBundle(opts: { tracing?: boolean } = {}): Promise<{ code: string }> {
  const prebuilt = process.env.JUDGEFLOW_WORKFLOW_BUNDLE;
  if (!opts.tracing && prebuilt && fs.existsSync(prebuilt)) return { code: fs.readFileSync(prebuilt, 'utf8') };
  return bundleWorkflows(opts);
}

/**
 * Without tracing the interceptors stay out: they would open spans in every workflow activation for
 * nobody. They add no commands, so a workflow may move between workers with and without them.
 */
export async function bundleWorkflows(opts: { tracing?: boolean } = {}): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: opts.tracing ? [TRACING_INTERCEPTORS] : [],
    logger: quietLogger,
  });
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error, log: noop };
