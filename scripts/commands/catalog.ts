/**
 * `judgeflow catalog import <file>`: streams a JSONL or CSV catalog into Postgres (all or nothing,
 * invalid rows listed by line) and, with --program, triggers that program's pre-launch detection
 * for the synopses the import created or edited.
 */
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { CatalogRejectedError, importCatalog, type CatalogFormat, type ImportResult } from '../../catalog/import';
import { catalogChangedSignal, prelaunchWorkflow } from '../../workflows/prelaunch';
import { CliError, withContext } from './context';
import { prelaunchWorkflowId } from '../../workflows/ids';

/** Signals (starting it if needed) the program's pre-launch workflow about an import's changes. */
export async function notifyPrelaunch(
  client: Client,
  taskQueue: string,
  programId: string,
  result: ImportResult,
): Promise<string> {
  const workflowId = prelaunchWorkflowId(programId);
  await client.workflow.signalWithStart(prelaunchWorkflow, {
    workflowId,
    taskQueue,
    args: [{ programId }],
    signal: catalogChangedSignal,
    signalArgs: [{ importId: result.importedAt, since: result.importedAt }],
    staticSummary: `pre-launch detection for ${programId}: new and edited synopses are judged, failures go to writers`,
  });
  return workflowId;
}

export function registerCatalogCommands(cli: Command) {
  const catalog = cli.command('catalog').description('The catalog of shows and synopses.');
  catalog
    .command('import <file>')
    .description(
      'Import a JSONL or CSV catalog (streamed; nothing is imported if a row is invalid, unless --skip-invalid).',
    )
    .option('--format <format>', 'jsonl or csv (default: from the file extension)')
    .option('--skip-invalid', 'import the valid rows and report the invalid ones')
    .option('--program <id>', 'judge new and edited synopses with this program (pre-launch detection)')
    .option('--json', 'print the result as JSON')
    .action(
      async (file: string, opts: { format?: string; skipInvalid?: boolean; program?: string; json?: boolean }) => {
        if (opts.format !== undefined && opts.format !== 'jsonl' && opts.format !== 'csv')
          throw new CliError(`--format must be jsonl or csv, not "${opts.format}"`);
        await withContext(
          async ({ config, database, client }) => {
            let result: ImportResult;
            try {
              result = await importCatalog(database.sql, file, {
                format: opts.format as CatalogFormat | undefined,
                skipInvalid: opts.skipInvalid,
              });
            } catch (err) {
              if (err instanceof CatalogRejectedError) throw new CliError(`${file}: ${err.message}`);
              throw err;
            }
            const changed = result.newItems + result.editedItems;
            const prelaunch =
              opts.program && changed
                ? await notifyPrelaunch(client, config.temporal.taskQueue, opts.program, result)
                : null;
            if (opts.json) console.log(JSON.stringify({ ...result, prelaunchWorkflowId: prelaunch }));
            else {
              console.log(
                `${file}: ${result.rows} rows, ${result.shows} shows, ${result.synopses} synopses (${result.newItems} new, ${result.editedItems} edited, ${result.unchangedItems} unchanged)`,
              );
              for (const p of result.problems) console.log(`  skipped line ${p.line}: ${p.message}`);
              if (result.invalidRows > result.problems.length)
                console.log(`  … and ${result.invalidRows - result.problems.length} more skipped`);
              if (prelaunch) console.log(`pre-launch detection: ${changed} synopses sent to ${prelaunch}`);
            }
          },
          { temporal: Boolean(opts.program) },
        );
      },
    );
}
