/** `judgeflow report <programId> --out report.html [--format html|md]`: the program's report. */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { recordAudit } from '../../governance/audit';
import { buildProgramReport } from '../../reporting/report';
import { renderHtml, renderMarkdown } from '../../reporting/render';
import { CliError, withContext } from './context';

export async function writeReport(
  report: Awaited<ReturnType<typeof buildProgramReport>>,
  out: string,
  format: 'html' | 'md',
): Promise<string[]> {
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  if (format === 'html') {
    fs.writeFileSync(out, renderHtml(report));
    return [out];
  }
  // charts go beside the Markdown file, named after it, so two reports in one folder never collide
  const base = path.basename(out).replace(/\.md$/i, '');
  const { markdown, charts } = renderMarkdown(report, `${base}-`);
  fs.writeFileSync(out, markdown);
  for (const c of charts) fs.writeFileSync(path.join(path.dirname(out), c.file), c.svg);
  return [out, ...charts.map((c) => path.join(path.dirname(out), c.file))];
}

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description(
      'Write the program report: self-contained HTML with inline SVG charts, or Markdown with the charts as SVG files beside it.',
    )
    .argument('<programId>', 'the program to report on')
    .requiredOption('--out <file>', 'where to write the report (report.html, report.md)')
    .option('--format <format>', 'html or md (default: from the --out extension, else html)')
    .option('--actor <label>', 'a label for who exports, taken only when your identity is the unverified OS user')
    .option('--request-id <id>', 'idempotency key, recorded in the audit log (default: a new one)')
    .action(async (programId: string, opts: { out: string; format?: string; actor?: string; requestId?: string }) => {
      const format = opts.format ?? (opts.out.toLowerCase().endsWith('.md') ? 'md' : 'html');
      if (format !== 'html' && format !== 'md') throw new CliError(`--format must be html or md (got "${format}")`);
      await withContext(
        async ({ database, actor }) => {
          const files = await writeReport(await buildProgramReport(database.db, programId), opts.out, format);
          // A file is not transactional: the export is recorded once its files are written.
          await recordAudit(database.db, {
            actor: actor(opts.actor),
            action: 'report_exported',
            entity: 'report',
            entityId: programId,
            programId,
            requestId: opts.requestId ?? randomUUID(),
            after: { format, files: files.map((f) => path.resolve(f)) },
          });
          console.log(`wrote ${files.join(', ')}`);
        },
        { temporal: false },
      );
    });
}
