/** `judgeflow report <programId> --out report.html [--format html|md]`: the program's report. */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
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
    .action(async (programId: string, opts: { out: string; format?: string }) => {
      const format = opts.format ?? (opts.out.toLowerCase().endsWith('.md') ? 'md' : 'html');
      if (format !== 'html' && format !== 'md') throw new CliError(`--format must be html or md (got "${format}")`);
      await withContext(
        async ({ database }) => {
          const files = await writeReport(await buildProgramReport(database.db, programId), opts.out, format);
          console.log(`wrote ${files.join(', ')}`);
        },
        { temporal: false },
      );
    });
}
