/**
 * HTML (one self-contained file: inline CSS and SVG, no scripts, no external URLs) and Markdown
 * (charts written as SVG files beside it) from the same sections.
 */
import type { ProgramReport } from './model';
import { escapeXml } from './charts';
import { reportSections } from './sections';
import type { Block } from './sections/blocks';

const CSS = `body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
h1{margin-bottom:0}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:2em}
table{border-collapse:collapse;margin:0.8em 0;font-size:13px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}
th{background:#f4f4f4}svg.chart{display:block;margin:0.8em 0;max-width:100%;height:auto}nav a{margin-right:10px}
.meta{color:#666}`;

function htmlBlock(b: Block): string {
  if (b.kind === 'text') return `<p>${escapeXml(b.text)}</p>`;
  if (b.kind === 'chart') return `<figure data-chart="${escapeXml(b.name)}">${b.svg}</figure>`;
  const head = `<tr>${b.headers.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr>`;
  return `<table><thead>${head}</thead><tbody>${b.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

export function renderHtml(report: ProgramReport): string {
  const sections = reportSections(report);
  const p = report.program;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(`judgeflow report: ${p.name}`)}</title><style>${CSS}</style></head>
<body><h1>${escapeXml(p.name)}</h1>
<p class="meta">Program <code>${escapeXml(p.id)}</code> · criteria ${escapeXml(p.criteria.join(', '))} · generated ${escapeXml(report.generatedAt)} by judgeflow</p>
<nav>${sections.map((s) => `<a href="#${s.id}">${escapeXml(s.title)}</a>`).join(' ')}</nav>
${sections.map((s) => `<section id="${s.id}"><h2>${escapeXml(s.title)}</h2>${s.blocks.map(htmlBlock).join('\n')}</section>`).join('\n')}
</body></html>
`;
}

const mdCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Markdown text plus the chart files it links to (relative names, written beside it). */
export function renderMarkdown(
  report: ProgramReport,
  chartPrefix: string,
): { markdown: string; charts: Array<{ file: string; svg: string }> } {
  const charts: Array<{ file: string; svg: string }> = [];
  const p = report.program;
  const lines = [
    `# ${p.name}`,
    '',
    `Program \`${p.id}\` · criteria ${p.criteria.join(', ')} · generated ${report.generatedAt} by judgeflow`,
    '',
  ];
  for (const s of reportSections(report)) {
    lines.push(`## ${s.title}`, '');
    for (const b of s.blocks) {
      if (b.kind === 'text') lines.push(b.text, '');
      else if (b.kind === 'chart') {
        const file = `${chartPrefix}${b.name}.svg`;
        charts.push({ file, svg: b.svg });
        lines.push(`![${b.name}](${encodeURI(file)})`, '');
      } else {
        lines.push(
          `| ${b.headers.map(mdCell).join(' | ')} |`,
          `| ${b.headers.map(() => '---').join(' | ')} |`,
          ...b.rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`),
          '',
        );
      }
    }
  }
  return { markdown: lines.join('\n'), charts };
}
