/**
 * `judgeflow catalog import <file>`: streams a JSONL or CSV catalog into Postgres (all or nothing,
 * invalid rows listed by line) and, with --program, adds the file's synopses to that program's item
 * set (those passing its filters) and triggers its pre-launch detection for the synopses the import
 * created or edited.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { CatalogRejectedError, importCatalog, type CatalogFormat, type ImportResult } from '../../catalog/import';
import { eq } from 'drizzle-orm';
import { addImportToItemSet } from '../../catalog/item-set';
import { programs } from '../../schema/tables';
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
    .option(
      '--program <id>',
      "add the file's synopses that pass the program's item filters to its items, and judge the new and edited ones (pre-launch detection)",
    )
    .option('--json', 'print the result as JSON')
    .option(
      '--actor <label>',
      'a label for who imports, taken only when your identity is the unverified OS user (judgeflow whoami)',
    )
    .option('--request-id <id>', 'idempotency key, recorded in the audit log (default: a new one)')
    .action(
      async (
        file: string,
        opts: {
          format?: string;
          skipInvalid?: boolean;
          program?: string;
          json?: boolean;
          actor?: string;
          requestId?: string;
        },
      ) => {
        if (opts.format !== undefined && opts.format !== 'jsonl' && opts.format !== 'csv')
          throw new CliError(`--format must be jsonl or csv, not "${opts.format}"`);
        await withContext(
          async ({ config, database, client, actor }) => {
            let result: ImportResult;
            try {
              if (opts.program && !(await database.db.$count(programs, eq(programs.id, opts.program))))
                throw new CliError(`--program: no program "${opts.program}"`);
              result = await importCatalog(database.sql, file, {
                format: opts.format as CatalogFormat | undefined,
                skipInvalid: opts.skipInvalid,
                keepItemIds: Boolean(opts.program),
                audit: { actor: actor(opts.actor), requestId: opts.requestId ?? randomUUID(), programId: opts.program },
              });
            } catch (err) {
              if (err instanceof CatalogRejectedError) throw new CliError(`${file}: ${err.message}`);
              throw err;
            }
            const added = opts.program
              ? await addImportToItemSet(database.db, opts.program, { ...result, file, itemIds: result.itemIds ?? [] })
              : null;
            const { itemIds: _ids, ...summary } = result;
            const changed = result.newItems + result.editedItems;
            // Synopses new to the program's items are judged too, edited or not (pre-launch's changedSince covers them).
            const prelaunch =
              opts.program && (changed || added)
                ? await notifyPrelaunch(client, config.temporal.taskQueue, opts.program, result)
                : null;
            if (opts.json)
              console.log(JSON.stringify({ ...summary, addedToProgram: added, prelaunchWorkflowId: prelaunch }));
            else {
              console.log(
                `${file}: ${result.rows} rows, ${result.shows} shows, ${result.synopses} synopses (${result.newItems} new, ${result.editedItems} edited, ${result.unchangedItems} unchanged)`,
              );
              for (const p of result.problems) console.log(`  skipped line ${p.line}: ${p.message}`);
              if (result.invalidRows > result.problems.length)
                console.log(`  … and ${result.invalidRows - result.problems.length} more skipped`);
              if (added !== null) console.log(`${added} synopses added to the items of ${opts.program}`);
              if (prelaunch)
                console.log(`pre-launch detection: the new, edited and newly added synopses go to ${prelaunch}`);
            }
          },
          { temporal: Boolean(opts.program) },
        );
      },
    );
}
