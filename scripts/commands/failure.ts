/**
 * Why a workflow failed, in the words of the failure that caused it: a production run's
 * "Workflow execution failed" wraps a child workflow failure, which wraps an activity failure,
 * which wraps the ApplicationFailure that names the problem (for example a provider refusing the
 * API key, with the setting to fix). The CLI prints that innermost message.
 */
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { programWorkflowId } from '../../workflows/ids';

/** The innermost ApplicationFailure (else the innermost cause) of `err`, as `Type: message`. */
export function rootFailureMessage(err: unknown): string {
  let innermost: unknown = err;
  let application: ApplicationFailure | undefined;
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    innermost = e;
    if (e instanceof ApplicationFailure) application = e;
  }
  const chosen = application ?? innermost;
  if (chosen instanceof ApplicationFailure) return chosen.type ? `${chosen.type}: ${chosen.message}` : chosen.message;
  if (chosen instanceof TemporalFailure || chosen instanceof Error) return chosen.message;
  return String(chosen);
}

/** Why the closed workflow `workflowId` failed, or undefined when it did not fail. */
export async function workflowFailure(client: Client, workflowId: string): Promise<string | undefined> {
  const handle = client.workflow.getHandle(workflowId);
  const { status } = await handle.describe();
  if (status.name !== 'FAILED') return undefined;
  return handle.result().then(
    () => undefined,
    (err: unknown) => rootFailureMessage(err),
  );
}

/** Why a program's workflow failed (e.g. the provider refusing the API key, with the setting to fix). */
export const programFailure = async (client: Client, programId: string) =>
  (await workflowFailure(client, programWorkflowId(programId)).catch(() => undefined)) ??
  'see the program workflow in the Temporal UI';
