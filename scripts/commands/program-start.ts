/**
 * `judgeflow program start <spec>`: validates the spec, imports its catalog, prints the estimate,
 * asks to confirm, registers the program and starts its workflow. A module of its own so that the
 * other program commands do not load what only a start needs (scripts/cli.ts).
 */
import path from 'node:path';
import readline from 'node:readline/promises';
import { CatalogRejectedError } from '../../catalog/import';
import type { ProgramEstimate } from '../../program/estimate';
import { checkProgramPrerequisites, importSpecCatalog, registerProgram } from '../../program/registration';
import { programWorkflowId } from '../../workflows/ids';
import { programWorkflow } from '../../workflows/program';
import { PhaseKey, ProgramKey, StatusKey } from '../../workflows/search-attributes';
import { CliError, withContext } from './context';
import { readValidSpec } from './spec-file';

export interface StartOptions {
  yes?: boolean;
  json?: boolean;
}

export function formatEstimate(e: ProgramEstimate): string {
  return [
    `  human tasks   ${e.humanTasks.total} expected (pilot ${e.humanTasks.pilot}, calibration ${e.humanTasks.calibration.expected}–${e.humanTasks.calibration.max}, golden set ${e.humanTasks.goldenSet}, reviews ${e.humanTasks.reviews}, fix loop ${e.humanTasks.fixLoop.expected}–${e.humanTasks.fixLoop.max})`,
    `  LLM calls     ${e.llmCalls.total} (aggregation ${e.llmCalls.goldenAggregation}, validation ${e.llmCalls.judgeValidation}, optimizer ≤${e.llmCalls.optimizer}, production ${e.llmCalls.production})`,
    `  cost          $${e.costUsd.total} expected (human $${e.costUsd.human}, LLM $${e.costUsd.llm}; LLM with batch production $${e.costUsd.llmBatch}); at most $${e.costUsd.maxTotal}`,
    `  timeline      ${e.days.expected} days expected, ${e.days.max} at most`,
    `  budget        ${e.withinBudget ? 'within budget' : 'OVER BUDGET'}`,
    ...e.notes.map((n) => `  note          ${n}`),
  ].join('\n');
}

export async function startProgram(file: string, opts: StartOptions): Promise<void> {
  const spec = readValidSpec(file);
  await withContext(async ({ config, database, client }) => {
    const catalog = await importSpecCatalog(database.sql, spec, path.dirname(file)).catch((err: unknown) => {
      throw err instanceof CatalogRejectedError ? new CliError(`items.catalog: ${err.message}`) : err;
    });
    if (catalog && !opts.json) console.log(`Imported ${catalog.file}: ${catalog.itemIds.length} synopses`);
    const {
      estimate,
      vendors: vendorPlan,
      selection,
    } = await checkProgramPrerequisites(database.db, spec, config.env, {
      rpmLimit: config.llm.rpmLimit,
      model: spec.judges.model ?? config.llm.model,
      catalog,
    });
    if (!opts.json) console.log(`Estimate for ${spec.id}:\n${formatEstimate(estimate)}`);
    if (!opts.yes) {
      if (!process.stdin.isTTY)
        throw new CliError('not starting without confirmation: pass --yes when running non-interactively');
      const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
      const answer = await rl.question('Start this program? [y/N] ');
      rl.close();
      if (!/^y(es)?$/i.test(answer.trim())) throw new CliError('not started', 1);
    }
    await registerProgram(database.db, spec, estimate, vendorPlan, selection);
    const workflowId = programWorkflowId(spec.id);
    await client.workflow.start(programWorkflow, {
      workflowId,
      taskQueue: config.temporal.taskQueue,
      args: [{ programId: spec.id }],
      staticSummary: `${spec.name}: ${spec.criteria.map((c) => c.id).join(', ')}`,
      staticDetails: `Evaluation program **${spec.name}** (${spec.id}). Budget $${spec.budget.usd}; agreement target ${spec.targets.agreement}; judge accuracy target ${spec.targets.judgeAccuracy}; gates ${spec.gates.policy}.`,
      typedSearchAttributes: [
        { key: ProgramKey, value: spec.id },
        { key: PhaseKey, value: 'scoping' },
        { key: StatusKey, value: 'running' },
      ],
    });
    const url = `${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows/${encodeURIComponent(workflowId)}`;
    if (opts.json) console.log(JSON.stringify({ programId: spec.id, workflowId, estimate, url }));
    else console.log(`Started ${workflowId}\n  ${url}`);
  });
}
