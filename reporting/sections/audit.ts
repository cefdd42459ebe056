/** The audit trail: who changed what in the program, when, by which request, before and after. */
import { AUDIT_HEADERS, auditCells } from '../../governance/audit-trail';
import type { ProgramReport } from '../model';
import { empty, type Section } from './blocks';

export function auditTrail(r: ProgramReport): Section {
  return {
    id: 'audit',
    title: 'Audit trail',
    blocks: r.audit.length
      ? [
          {
            kind: 'text',
            text: `${r.audit.length} change(s) by people, QA and the gate policy, each recorded in the transaction that made it.`,
          },
          { kind: 'table', headers: AUDIT_HEADERS, rows: r.audit.map(auditCells) },
        ]
      : [empty('audited changes')],
  };
}
