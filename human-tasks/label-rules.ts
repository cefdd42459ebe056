/**
 * What a rater's labels may say in a program: each value within its criterion's scale
 * (criterionLabelRange, the spec's one rule) and error codes from that criterion's taxonomy. The
 * gateway's general path checks an event with labelProblem; its batched path sends the same rules,
 * as JSON, into its one statement (workers/gateway-completions.ts).
 */
import { criterionLabelRange, type ProgramSpec } from '../schema/program-spec';
import type { LabelInput } from '../schema/vendor-events';

export interface CriterionRule {
  min: number;
  max: number;
  /** The codes of this criterion; null when the program has no taxonomy (codes are then free text). */
  codes: string[] | null;
}

export interface ProgramLabelRules {
  criteria: Record<string, CriterionRule>;
  /** For a criterion the stored spec does not describe: the spec's default scale (binary). */
  default: CriterionRule;
  /** The program runs a qualification batch (spec `raters.qualification`): work needs a passed one. */
  qualification: boolean;
}

/** The parts of a stored spec the rules read (test programs may store less). */
export type RulesSpec = Partial<Pick<ProgramSpec, 'criteria' | 'errorTaxonomy' | 'raters'>>;

export function programLabelRules(spec: RulesSpec): ProgramLabelRules {
  const taxonomy = spec.errorTaxonomy ?? [];
  const codesOf = (criterion: string) =>
    taxonomy.length ? taxonomy.filter((e) => e.criterion === criterion).map((e) => e.code) : null;
  return {
    criteria: Object.fromEntries(
      (spec.criteria ?? []).map((c) => [c.id, { ...criterionLabelRange(c), codes: codesOf(c.id) }]),
    ),
    default: { ...criterionLabelRange({ scale: 'binary' }), codes: taxonomy.length ? [] : null },
    qualification: Boolean(spec.raters?.qualification),
  };
}

export interface LabelProblem {
  status: number;
  code: 'label_out_of_scale' | 'unknown_error_code' | 'error_code_of_other_criterion';
  message: string;
  details: Record<string, unknown>;
}

/** The first label that breaks the program's rules, as the gateway refuses it; null when all hold. */
export function labelProblem(
  rules: ProgramLabelRules,
  labels: readonly Pick<LabelInput, 'criterion' | 'value' | 'errorCodes'>[],
  taxonomy: readonly { code: string; criterion: string }[],
): LabelProblem | null {
  for (const [i, l] of labels.entries()) {
    const rule = rules.criteria[l.criterion] ?? rules.default;
    if (l.value < rule.min || l.value > rule.max)
      return {
        status: 422,
        code: 'label_out_of_scale',
        message: `labels.${i}: ${l.criterion} takes ${rule.min}..${rule.max}, not ${l.value}`,
        details: { criterion: l.criterion, value: l.value, min: rule.min, max: rule.max },
      };
    if (!rule.codes) continue;
    for (const code of l.errorCodes) {
      if (rule.codes.includes(code)) continue;
      const owner = taxonomy.find((e) => e.code === code)?.criterion;
      return owner
        ? {
            status: 422,
            code: 'error_code_of_other_criterion',
            message: `labels.${i}: error code ${code} belongs to ${owner}, not ${l.criterion}`,
            details: { criterion: l.criterion, errorCode: code, codeCriterion: owner, allowed: rule.codes },
          }
        : {
            status: 422,
            code: 'unknown_error_code',
            message: `labels.${i}: error code ${code} is not in the program's taxonomy (${l.criterion} takes ${rule.codes.join(', ') || 'none'})`,
            details: { criterion: l.criterion, errorCode: code, allowed: rule.codes },
          };
    }
  }
  return null;
}

const RULES_TTL_MS = 60_000;

interface Entry {
  rules: ProgramLabelRules;
  taxonomy: NonNullable<RulesSpec['errorTaxonomy']>;
  at: number;
}

/**
 * Rules by program, kept for a minute (a program's spec does not change while it runs). The
 * batched path sends the rules of every program still running, read in one query a minute; the
 * general path reads a single program's when it is missing (one registered since).
 */
export class LabelRulesCache {
  private readonly entries = new Map<string, Entry>();
  private loadedAt = 0;
  private loading?: Promise<void>;

  private put(programId: string, spec: RulesSpec): Entry {
    const entry = { rules: programLabelRules(spec), taxonomy: spec.errorTaxonomy ?? [], at: Date.now() };
    this.entries.set(programId, entry);
    return entry;
  }

  async get(programId: string, loadSpec: () => Promise<RulesSpec>): Promise<Entry> {
    const hit = this.entries.get(programId);
    if (hit && Date.now() - hit.at < RULES_TTL_MS) return hit;
    return this.put(programId, await loadSpec());
  }

  /** The rules of the running programs, keyed by program id, for the batched statement. */
  async snapshot(
    loadRunning: () => Promise<{ id: string; spec: RulesSpec }[]>,
  ): Promise<Record<string, ProgramLabelRules>> {
    if (Date.now() - this.loadedAt >= RULES_TTL_MS)
      await (this.loading ??= loadRunning()
        .then((rows) => {
          for (const r of rows) this.put(r.id, r.spec);
          this.loadedAt = Date.now();
        })
        .finally(() => (this.loading = undefined)));
    const out: Record<string, ProgramLabelRules> = {};
    for (const [id, e] of this.entries) {
      if (Date.now() - e.at < RULES_TTL_MS) out[id] = e.rules;
      else this.entries.delete(id);
    }
    return out;
  }
}
