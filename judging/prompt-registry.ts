/**
 * Judge prompts: seeded from a program's spec per criterion (and per factuality agent), stored by
 * content hash with their lineage, and resolved into the judge units a criterion runs.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { eq, inArray } from 'drizzle-orm';
import {
  buildJudgeTemplate,
  judgeKey,
  type CriterionText,
  type JudgePromptContent,
  type JudgePromptSettings,
} from './prompts/judge';
import type { Db } from '../platform/db';
import { likertScale, programLocales, type ProgramSpec } from '../schema/program-spec';
import { judgePrompts, programs } from '../schema/tables';
import { promptHash } from './prompts/hash';
import { guidelineRevision } from '../program/guideline-revisions';

export interface EnsureJudgePromptsInput {
  programId: string;
  guidelineVersion: number;
  /** A multilingual program's locale: its judges get that locale's rubrics (and guidelines, if it has its own). */
  locale?: string;
}

export interface JudgeUnit {
  criterion: string;
  agent: string;
  hash: string;
  template: string;
  settings: JudgePromptSettings;
}

export interface CriterionPlan {
  criterion: string;
  panel: boolean;
  units: JudgeUnit[];
}

const DEFAULT_TEMPERATURE = 0.7;

export const settingsOf = (row: { settings: Record<string, unknown> }) =>
  row.settings as unknown as JudgePromptSettings;

export async function loadProgram(db: Db, programId: string) {
  const [program] = await db.select().from(programs).where(eq(programs.id, programId));
  if (!program) throw ApplicationFailure.nonRetryable(`unknown program ${programId}`, 'UnknownProgram');
  return { ...program, spec: program.spec as unknown as ProgramSpec };
}

/** The locale a judge prompt is written for (undefined: a single-locale program's judge). */
export async function promptLocale(db: Db, hash: string): Promise<string | undefined> {
  const [row] = await db
    .select({ settings: judgePrompts.settings })
    .from(judgePrompts)
    .where(eq(judgePrompts.hash, hash));
  return row ? settingsOf(row).locale : undefined;
}

/** Stores a prompt version (idempotent: the hash is its identity). */
export async function storePrompt(
  db: Db,
  content: JudgePromptContent,
  lineage: { origin: 'seed' | 'manual' | 'optimizer'; parentHash?: string },
): Promise<string> {
  const hash = promptHash(content);
  await db
    .insert(judgePrompts)
    .values({
      hash,
      programId: content.programId,
      criterion: content.criterion,
      agent: content.agent,
      template: content.template,
      guidelineVersion: content.guidelineVersion,
      settings: content.settings as unknown as Record<string, unknown>,
      parentHash: lineage.parentHash ?? null,
      origin: lineage.origin,
    })
    .onConflictDoNothing();
  return hash;
}

/** The judge units (one per prompt, a panel's agents expanded) behind each criterion; refuses foreign or unknown prompts. */
export async function resolvePlans(
  db: Db,
  programId: string,
  criteria: string[],
  prompts: Record<string, string>,
): Promise<CriterionPlan[]> {
  const keysOf = (c: string) => (prompts[c] ? [c] : Object.keys(prompts).filter((k) => k.startsWith(`${c}.`)));
  const wanted = criteria.flatMap((c) => keysOf(c).map((k) => prompts[k]));
  const rows = wanted.length ? await db.select().from(judgePrompts).where(inArray(judgePrompts.hash, wanted)) : [];
  const panelHashes = rows.flatMap((r) => Object.values(settingsOf(r).panel ?? {}));
  const agentRows = panelHashes.length
    ? await db.select().from(judgePrompts).where(inArray(judgePrompts.hash, panelHashes))
    : [];
  const byHash = new Map([...rows, ...agentRows].map((r) => [r.hash, r]));
  const unit = (hash: string): JudgeUnit => {
    const r = byHash.get(hash);
    if (!r) throw ApplicationFailure.nonRetryable(`unknown judge prompt ${hash}`, 'UnknownPrompt');
    if (r.programId !== programId)
      throw ApplicationFailure.nonRetryable(
        `judge prompt ${hash} belongs to program ${r.programId}, not ${programId}`,
        'UnknownPrompt',
      );
    return { criterion: r.criterion, agent: r.agent, hash: r.hash, template: r.template, settings: settingsOf(r) };
  };
  return criteria.map((criterion) => {
    const keys = keysOf(criterion);
    if (!keys.length)
      throw ApplicationFailure.nonRetryable(
        `no judge prompt for criterion ${criterion} (prompts: ${Object.keys(prompts).join(', ') || 'none'})`,
        'UnknownPrompt',
      );
    const units = keys.flatMap((k) => {
      const u = unit(prompts[k]);
      return u.settings.panel ? Object.values(u.settings.panel).map(unit) : [u];
    });
    return { criterion, panel: units.length > 1 || units.some((u) => u.agent !== ''), units };
  });
}

/**
 * The rubric per criterion and the guideline text a judge of `locale` reads: the locale's own
 * published revision (`own`), else the locale's own where the spec gives them, else the guideline
 * version's (whose criteria carry published rubric revisions).
 */
export function localeText(
  spec: ProgramSpec,
  criteria: ProgramSpec['criteria'],
  locale: string | undefined,
  guideline: { text: string; version: number; own?: boolean },
) {
  const own = locale ? spec.locales?.find((l) => l.code === locale) : undefined;
  if (locale && !own)
    throw ApplicationFailure.nonRetryable(`program ${spec.id} has no locale ${locale}`, 'UnknownLocale');
  const [resolved] = programLocales({ ...spec, criteria, locales: own ? [own] : undefined });
  return { rubrics: resolved.rubrics, guidelines: guideline.own ? guideline : (own?.guidelines ?? guideline) };
}

/**
 * One judge prompt per criterion, and per factuality agent, at a guideline version; a panel
 * criterion also gets its own prompt naming its agents (its key is the criterion). Idempotent.
 */
export async function ensureJudgePrompts(db: Db, input: EnsureJudgePromptsInput): Promise<Record<string, string>> {
  const program = await loadProgram(db, input.programId);
  const guideline = await guidelineRevision(db, input.programId, input.guidelineVersion, input.locale);
  if (!guideline)
    throw ApplicationFailure.nonRetryable(
      `program ${input.programId} has no guideline version ${input.guidelineVersion}`,
      'UnknownGuideline',
    );
  const criteria = (guideline.criteria.length
    ? guideline.criteria
    : program.spec.criteria) as unknown as ProgramSpec['criteria'];
  const { locale } = input;
  const { rubrics, guidelines } = localeText(program.spec, criteria, locale, guideline);
  const out: Record<string, string> = {};
  for (const c of criteria) {
    const text: CriterionText = { id: c.id, name: c.name, description: c.description, rubric: rubrics[c.id] };
    const scale = likertScale(c);
    const settings = {
      temperature: c.judge?.temperature ?? DEFAULT_TEMPERATURE,
      ...(c.judge?.reasoningEffort ? { reasoningEffort: c.judge.reasoningEffort } : {}),
      ...(scale ? { scale } : {}),
      ...(locale ? { locale } : {}),
    };
    const base = { programId: input.programId, criterion: c.id, guidelineVersion: input.guidelineVersion, settings };
    if (!c.panel?.length) {
      out[c.id] = await storePrompt(
        db,
        {
          ...base,
          agent: '',
          template: buildJudgeTemplate({
            criterion: text,
            guidelineText: guidelines.text,
            guidelineVersion: guidelines.version,
            scale,
            locale,
          }),
        },
        { origin: 'seed' },
      );
      continue;
    }
    const panel: Record<string, string> = {};
    for (const agent of c.panel) {
      panel[agent] = await storePrompt(
        db,
        {
          ...base,
          agent,
          template: buildJudgeTemplate({
            criterion: text,
            agent,
            guidelineText: guidelines.text,
            guidelineVersion: guidelines.version,
            locale,
          }),
        },
        { origin: 'seed' },
      );
      out[judgeKey(c.id, agent)] = panel[agent];
    }
    out[c.id] = await storePrompt(
      db,
      {
        ...base,
        agent: '',
        template: `panel of ${c.panel.join(', ')}: verdict = min over agents`,
        settings: { ...settings, panel },
      },
      { origin: 'seed' },
    );
  }
  return out;
}
