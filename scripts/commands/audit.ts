/**
 * `judgeflow audit <programId> [--since <iso|duration>] [--action X] [--json]`: who changed what in
 * a program, when, by which request, with the state before and after (governance/audit-trail.ts).
 */
import type { Command } from 'commander';
import { eq } from 'drizzle-orm';
import { AUDIT_HEADERS, auditCells, readAuditTrail, type AuditRow } from '../../governance/audit-trail';
import { durationMs } from '../../schema/program-spec';
import { programs } from '../../schema/tables';
import { CliError, withContext } from './context';

/** `--since`: an ISO time, or a duration back from now (30m, 24h, 7d). */
export function parseSince(value: string, now = Date.now()): Date {
  if (/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/.test(value.trim())) return new Date(now - durationMs(value));
  const at = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value.trim()) || Number.isNaN(at.getTime()))
    throw new CliError(
      `--since: "${value}" is neither an ISO time (2026-11-30T08:00:00Z) nor a duration (30m, 24h, 7d)`,
    );
  return at;
}

export function formatAuditTable(rows: AuditRow[]): string {
  const cells = rows.map(auditCells);
  const widths = AUDIT_HEADERS.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(AUDIT_HEADERS), ...cells.map(line)].join('\n');
}

export function registerAuditCommand(program: Command): void {
  program
    .command('audit <programId>')
    .description("A program's audit trail: who changed what, when, by which request, before and after.")
    .option('--since <when>', 'only changes since an ISO time or for a duration back (24h, 7d)')
    .option('--action <action>', 'only this action (budget_changed, gate_approved, rater_paused…)')
    .option('--json', 'print the rows as a JSON array')
    .action(async (programId: string, opts: { since?: string; action?: string; json?: boolean }) => {
      const since = opts.since === undefined ? undefined : parseSince(opts.since);
      await withContext(
        async ({ database }) => {
          if (!(await database.db.$count(programs, eq(programs.id, programId))))
            throw new CliError(`no program "${programId}" (see \`judgeflow program list\`)`);
          const rows = await readAuditTrail(database.db, programId, { since, action: opts.action });
          if (opts.json) console.log(JSON.stringify(rows, null, 2));
          else if (!rows.length)
            console.log(`no audited changes in ${programId}${since || opts.action ? ' matching the filters' : ''}`);
          else console.log(formatAuditTable(rows));
        },
        { temporal: false },
      );
    });
}
