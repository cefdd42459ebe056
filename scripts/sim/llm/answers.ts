/**
 * What the simulated model answers, per request kind (the structured-output schema name, see
 * judging/prompts/contract.ts). Judge verdicts follow the hidden truth (assessSynopsis of the synopsis
 * and show context in the prompt) with the configured accuracy:
 *
 *   accuracy = min(maxAccuracy, accuracy[criterion] + hintGain × rubric hints in the prompt
 *                                + tieredRationaleGain if the schema asks reasoning + summary first)
 *   error e = 1 − accuracy, split into a per-item part (1 − perSampleShare)·e — the same wrong
 *   answer on every sample of that item — and a per-sample part drawn independently per sample,
 *   scaled so the total single-sample error is exactly e. N× consensus removes only the latter.
 */
import { showSchema, type Show } from '../../../schema/catalog';
import { extractTag, LLM_REQUEST_KINDS, readDataTag, type Tag } from '../../../judging/prompts/contract';
import {
  assessSynopsis,
  splitSentences,
  TRUTH_CRITERIA,
  truthKey,
  type Defect,
  type TruthCriterion,
  type TruthKey,
} from '../model/assess';
import { textHash, unitFor } from '../model/rng';
import { missedScore, trueLikertScore } from '../model/likert';
import { lowerMedian } from '../../../stats/ordinal';
import type { LikertScale } from '../../../judging/prompts/judge';
import { hintsIn, RUBRIC_HINTS, USELESS_HINTS } from './hints';
import type { LlmSimOptions } from './options';
import type { Facts } from './schema-fill';

export interface AnswerInput {
  kind: string | undefined;
  prompt: string;
  schema: Record<string, unknown> | undefined;
  /** Unique per sample (0 for every sample of a temperature-0 request). */
  sample: number;
}

export interface Answer {
  facts: Facts;
  /** False when the request lacked what its kind needs (counted in stats, logged). */
  recognized: boolean;
}

const LABELS: Record<TruthKey, string> = {
  tone: 'tone',
  clarity: 'clarity',
  precision: 'precision',
  factuality: 'factuality',
  factuality_plot: 'factuality (plot)',
  factuality_metadata: 'factuality (metadata)',
  factuality_talent: 'factuality (talent)',
  factuality_awards: 'factuality (awards)',
};

const PASS_NOTES: Record<TruthKey, string> = {
  tone: 'the voice is calm and descriptive, with no hype or exclamation marks',
  clarity: 'the sentences are short and follow one another logically',
  precision: 'it names the concrete thing the story turns on, without filler',
  factuality: 'every checked fact matches the show record',
  factuality_plot: 'the story elements it mentions all appear in the plot summary',
  factuality_metadata: 'the year, genres and places it mentions match the record',
  factuality_talent: 'every person it names is in the talent list',
  factuality_awards: 'it claims no award the show did not win',
};

const FALSE_ALARMS: Record<TruthKey, string> = {
  tone: 'read as slightly promotional',
  clarity: 'be harder to follow than it should be',
  precision: 'stay too general about the story',
  factuality: 'state something the record does not support',
  factuality_plot: 'add a story detail beyond the plot summary',
  factuality_metadata: 'imply metadata the record does not state',
  factuality_talent: 'credit the cast imprecisely',
  factuality_awards: 'overstate the show’s recognition',
};

const firstSentence = (text: string) => splitSentences(text)[0] ?? text;

/**
 * The text in a tag: judgeflow sends it as a JSON string (contract.ts `dataTag`), which decodes to
 * the original verbatim; a prompt that puts raw text in the tag (older callers, hand-made requests)
 * is read as it stands.
 */
export function tagText(prompt: string, tag: Tag): string | undefined {
  const value = readDataTag(prompt, tag);
  return typeof value === 'string' ? value : extractTag(prompt, tag);
}

function contextShow(prompt: string): Show {
  // JSON either way: JSON.parse undoes the escaping of `<` and `>` that dataTag adds.
  const parsed = readDataTag(prompt, 'show') ?? {};
  const result = showSchema.safeParse({ id: 'context', title: 'untitled', ...(parsed as object) });
  return result.success ? result.data : showSchema.parse({ id: 'context', title: 'untitled' });
}

const AGENTS: TruthCriterion[] = ['factuality_plot', 'factuality_metadata', 'factuality_talent', 'factuality_awards'];

function judgeAccuracy(key: TruthKey, input: AnswerInput, o: LlmSimOptions): number {
  const keys = key === 'factuality' ? AGENTS : [key];
  const base = keys.reduce((sum, k) => sum + o.accuracy[k], 0) / keys.length;
  const hints = keys.reduce((n, k) => n + hintsIn(input.prompt, k).length, 0) / keys.length;
  const props = Object.keys((input.schema?.properties ?? {}) as object);
  const at = (re: RegExp) => props.findIndex((p) => re.test(p.toLowerCase()));
  const verdictAt = at(/verdict|label|decision|score/);
  const tiered =
    verdictAt > 0 &&
    at(/reason|rationale|think|analysis/) >= 0 &&
    at(/reason|rationale|think|analysis/) < verdictAt &&
    at(/summary/) >= 0 &&
    at(/summary/) < verdictAt;
  const locale = readDataTag(input.prompt, 'locale');
  const inLocale = typeof locale === 'string' ? (o.localeAccuracy[locale] ?? 0) : 0;
  return Math.min(o.maxAccuracy, base + o.hintGain * hints + (tiered ? o.tieredRationaleGain : 0) + inLocale);
}

/** True when this sample's answer is wrong (per-item part first, then the per-sample part). */
function isWrong(accuracy: number, key: string, synopsis: string, sample: number, o: LlmSimOptions): boolean {
  const e = 1 - accuracy;
  const itemError = (1 - o.perSampleShare) * e;
  const hash = textHash(synopsis);
  if (unitFor(o.seed, 'item', key, hash) < itemError) return true;
  const sampleError = itemError < 1 ? (o.perSampleShare * e) / (1 - itemError) : 0;
  return unitFor(o.seed, 'sample', key, hash, sample) < sampleError;
}

const unrecognized = (what: string, text: string): Answer => ({
  recognized: false,
  facts: {
    verdict: 'fail',
    label: 0,
    needsReview: true,
    reasoning: `Simulated model: ${what}`,
    summary: `Simulated model: ${what}`,
    explanation: `Simulated model: ${what}`,
    critique: `Simulated model: ${what}`,
    prompt: text,
    confidence: 0.5,
    text: `Simulated model: ${what}`,
  },
});

function judge(input: AnswerInput, o: LlmSimOptions): Answer {
  const synopsis = tagText(input.prompt, 'synopsis');
  const key = truthKey(tagText(input.prompt, 'criterion') ?? '');
  if (!synopsis || !key)
    return unrecognized(
      'the prompt has no <synopsis> or no known <criterion>, so there is nothing to judge.',
      input.prompt,
    );
  const show = contextShow(input.prompt);
  const assessment = assessSynopsis(show, synopsis);
  const truth = assessment.criteria[key];
  const wrong = isWrong(judgeAccuracy(key, input, o), key, synopsis, input.sample, o);
  const defects = assessment.defects.filter((d) =>
    key === 'factuality' ? d.criterion.startsWith('factuality_') : d.criterion === key,
  );
  // A Likert criterion: the hidden score, or a near miss of it; it passes at the scale's passAt.
  const scale = likertScaleIn(input.prompt);
  const truthScore = scale && trueLikertScore(scale, truth, defects.length, key, synopsis);
  const score =
    scale && (wrong ? missedScore(scale, truthScore!, unitFor(o.seed, 'miss', key, textHash(synopsis))) : truthScore!);
  const verdict = (scale ? score! >= scale.passAt : (wrong ? 1 - truth : truth) === 1) ? 'pass' : 'fail';
  const label = LABELS[key];
  const r = unitFor(o.seed, 'wording', key, input.sample);
  let reasoning: string;
  let summary: string;
  if (verdict === 'fail' && defects.length) {
    reasoning = `Checking ${label}${show.title !== 'untitled' ? ` for "${show.title}"` : ''}: the synopsis ${defects.map((d) => d.detail).join('; ')}. That breaks the ${label} rubric, so it fails.`;
    summary = `Fails ${label}: ${defects[0].code.replace(/_/g, ' ')}.`;
  } else if (verdict === 'fail') {
    const sentences = splitSentences(synopsis);
    const quoted = sentences[Math.floor(r * sentences.length)] ?? synopsis;
    reasoning = `Checking ${label}: the sentence "${quoted.slice(0, 80)}" may ${FALSE_ALARMS[key]}. On balance it fails.`;
    summary = `Fails ${label}: ${FALSE_ALARMS[key]}.`;
  } else {
    reasoning = `Checking ${label}${show.title !== 'untitled' ? ` for "${show.title}"` : ''}: ${PASS_NOTES[key]}. It passes.`;
    summary = `Passes ${label}.`;
  }
  return {
    recognized: true,
    facts: {
      verdict,
      label: score ?? (verdict === 'pass' ? 1 : 0),
      needsReview: false,
      reasoning,
      summary,
      explanation: reasoning,
      critique: reasoning,
      prompt: reasoning,
      confidence: Math.round((0.6 + 0.35 * r) * 100) / 100,
      text: `${reasoning}\nVerdict: ${verdict}`,
    },
  };
}

interface Rating {
  rater?: string;
  label: number;
  explanation?: string;
}

function parseJsonArray(raw: string | undefined): unknown[] | undefined {
  if (!raw) return undefined;
  try {
    const value = JSON.parse(raw) as unknown;
    return Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The Likert scale a request carries in its scale tag (judgeflow sends it for Likert criteria only). */
function likertScaleIn(prompt: string): LikertScale | undefined {
  const value = readDataTag(prompt, 'scale') as Partial<LikertScale> | undefined;
  return value && Number.isInteger(value.points) && Number.isInteger(value.passAt) ? (value as LikertScale) : undefined;
}

/**
 * golden_aggregate on a Likert criterion: the hidden score with the aggregator's accuracy (else the
 * raters' lower median); review when the raters spread over more than one point or it overrules them.
 */
function goldenScoreAggregate(input: AnswerInput, o: LlmSimOptions, scale: LikertScale): Answer {
  const ratings = parseJsonArray(extractTag(input.prompt, 'ratings'))?.filter(
    (r): r is Rating => !!r && typeof r === 'object' && Number.isInteger((r as Rating).label),
  );
  if (!ratings?.length)
    return unrecognized('the prompt has no <ratings> JSON array of {rater, label, explanation}.', input.prompt);
  const scores = ratings.map((r) => r.label);
  const median = lowerMedian(scores);
  const synopsis = tagText(input.prompt, 'synopsis');
  const key = truthKey(tagText(input.prompt, 'criterion') ?? '');
  let label = median;
  if (synopsis && key) {
    const assessment = assessSynopsis(contextShow(input.prompt), synopsis);
    const defects = assessment.defects.filter((d) =>
      key === 'factuality' ? d.criterion.startsWith('factuality_') : d.criterion === key,
    );
    const right = unitFor(o.seed, 'aggregate', key, textHash(synopsis), input.sample) < o.aggregateAccuracy;
    if (right) label = trueLikertScore(scale, assessment.criteria[key], defects.length, key, synopsis);
  }
  const needsReview = Math.max(...scores) - Math.min(...scores) > 1 || label !== median;
  const explanation = [
    `Raters scored ${scores.join(', ')} (median ${median}); the rubric supports ${label} of ${scale.points}.`,
    needsReview ? 'Raters disagree substantially; flag for review.' : '',
  ]
    .filter(Boolean)
    .join(' ');
  return {
    recognized: true,
    facts: {
      verdict: label >= scale.passAt ? 'pass' : 'fail',
      label,
      needsReview,
      reasoning: explanation,
      summary: firstSentence(explanation),
      explanation,
      critique: explanation,
      prompt: explanation,
      confidence: needsReview ? 0.6 : 0.9,
      text: explanation,
    },
  };
}

function goldenAggregate(input: AnswerInput, o: LlmSimOptions): Answer {
  const scale = likertScaleIn(input.prompt);
  if (scale) return goldenScoreAggregate(input, o, scale);
  const ratings = parseJsonArray(extractTag(input.prompt, 'ratings'))?.filter(
    (r): r is Rating => !!r && typeof r === 'object' && ((r as Rating).label === 0 || (r as Rating).label === 1),
  );
  if (!ratings?.length)
    return unrecognized('the prompt has no <ratings> JSON array of {rater, label: 0|1, explanation}.', input.prompt);
  const passes = ratings.filter((r) => r.label === 1).length;
  const n = ratings.length;
  const majority: 0 | 1 = passes * 2 > n ? 1 : 0;
  const split = Math.min(passes, n - passes) / n >= 1 / 3;
  const synopsis = tagText(input.prompt, 'synopsis');
  const key = truthKey(tagText(input.prompt, 'criterion') ?? '');
  let label = majority;
  let defects: Defect[] = [];
  if (synopsis && key) {
    const assessment = assessSynopsis(contextShow(input.prompt), synopsis);
    const truth = assessment.criteria[key];
    defects = assessment.defects.filter((d) =>
      key === 'factuality' ? d.criterion.startsWith('factuality_') : d.criterion === key,
    );
    const right = unitFor(o.seed, 'aggregate', key, textHash(synopsis), input.sample) < o.aggregateAccuracy;
    label = right ? truth : ((1 - truth) as 0 | 1);
  }
  const needsReview = split || label !== majority;
  const side = ratings.find((r) => r.label === label && r.explanation)?.explanation;
  const explanation = [
    `${passes} of ${n} raters passed it.`,
    label === 0
      ? defects.length
        ? `The synopsis ${defects[0].detail}.`
        : (side ?? 'The failing raters’ concern holds up.')
      : (side ?? 'No defect the raters raised holds up against the rubric.'),
    needsReview ? 'Raters disagree substantially; flag for review.' : '',
  ]
    .filter(Boolean)
    .join(' ');
  return {
    recognized: true,
    facts: {
      verdict: label ? 'pass' : 'fail',
      label,
      needsReview,
      reasoning: explanation,
      summary: firstSentence(explanation),
      explanation,
      critique: explanation,
      prompt: explanation,
      confidence: split ? 0.6 : 0.9,
      text: explanation,
    },
  };
}

function rationaleMerge(input: AnswerInput): Answer {
  const raw = extractTag(input.prompt, 'rationales');
  if (!raw) return unrecognized('the prompt has no <rationales>.', input.prompt);
  const items = parseJsonArray(raw) as Array<Record<string, unknown>> | undefined;
  const entries = items
    ? items.map((i) => ({
        agent: String(i.agent ?? i.criterion ?? 'agent'),
        verdict: String(i.verdict ?? i.label ?? 'pass').toLowerCase(),
        text: String(i.rationale ?? i.explanation ?? i.reasoning ?? i.summary ?? ''),
      }))
    : raw
        .split('\n')
        .filter((l) => l.trim())
        .map((line) => ({ agent: 'agent', verdict: /\bfail/i.test(line) ? 'fail' : 'pass', text: line.trim() }));
  const failing = entries.filter((e) => e.verdict === 'fail' || e.verdict === '0');
  const explanation = failing.length
    ? `Factuality fails on ${failing.map((f) => f.agent).join(', ')}. ${failing.map((f) => `${f.agent}: ${f.text}`).join(' ')}`
    : `Every factuality agent passes. ${entries.map((e) => `${e.agent}: ${e.text}`).join(' ')}`;
  return {
    recognized: true,
    facts: {
      verdict: failing.length ? 'fail' : 'pass',
      label: failing.length ? 0 : 1,
      needsReview: false,
      reasoning: explanation,
      summary: firstSentence(explanation),
      explanation,
      critique: explanation,
      prompt: explanation,
      confidence: 0.9,
      text: explanation,
    },
  };
}

const CRITERION_WORDS: Array<[TruthCriterion, string]> = TRUTH_CRITERIA.map((c) => [c, c.replace('factuality_', '')]);

/** The criterion a prompt is about: its <criterion> tag, else the first criterion word in it. */
function promptCriterion(prompt: string): TruthCriterion | undefined {
  const tagged = truthKey(tagText(prompt, 'criterion') ?? '');
  if (tagged && tagged !== 'factuality') return tagged;
  const lower = (tagText(prompt, 'prompt') ?? prompt).toLowerCase();
  const found = CRITERION_WORDS.map(([c, w]) => [c, lower.indexOf(w)] as const)
    .filter(([, i]) => i >= 0)
    .sort((a, b) => a[1] - b[1]);
  return found[0]?.[0];
}

function promptCritique(input: AnswerInput, o: LlmSimOptions): Answer {
  const current = tagText(input.prompt, 'prompt');
  const criterion = promptCriterion(input.prompt);
  if (!current || !criterion)
    return unrecognized('the prompt has no <prompt> to critique, or no criterion could be identified.', input.prompt);
  const errors = extractTag(input.prompt, 'errors') ?? '';
  const errorCount = parseJsonArray(errors)?.length ?? errors.split('\n').filter((l) => l.trim()).length;
  const missing = RUBRIC_HINTS[criterion].filter((h) => !hintsIn(current, criterion).includes(h));
  const pick = missing[Math.floor(unitFor(o.seed, 'critique', textHash(current), input.sample) * missing.length)];
  const critique = pick
    ? `Across ${errorCount} errors the prompt gives the judge no rule for what went wrong. Add this rule: "${pick}"`
    : `The prompt already states every rule these ${errorCount} errors call for; what remains looks like noise.`;
  return {
    recognized: true,
    facts: {
      verdict: 'fail',
      label: 0,
      needsReview: false,
      reasoning: critique,
      summary: firstSentence(critique),
      explanation: critique,
      critique,
      prompt: current,
      confidence: 0.8,
      text: critique,
    },
  };
}

function promptEdit(input: AnswerInput, o: LlmSimOptions): Answer {
  const current = tagText(input.prompt, 'prompt');
  const criterion = promptCriterion(input.prompt);
  if (!current || !criterion)
    return unrecognized('the prompt has no <prompt> to edit, or no criterion could be identified.', input.prompt);
  const critique = tagText(input.prompt, 'critique') ?? '';
  const present = hintsIn(current, criterion);
  const missing = RUBRIC_HINTS[criterion].filter((h) => !present.includes(h));
  const suggested = missing.find((h) => critique.toLowerCase().includes(h.toLowerCase()));
  const useless = USELESS_HINTS.filter((h) => !current.includes(h));
  const u = unitFor(o.seed, 'edit', textHash(current), input.sample);
  const hint =
    (u < o.uselessEditRate || missing.length === 0) && useless.length
      ? useless[Math.floor((u / Math.max(o.uselessEditRate, 1e-9)) * useless.length) % useless.length]
      : (suggested ?? missing[Math.floor(u * missing.length)]);
  const edited = hint ? `${current.trimEnd()}\n- ${hint}` : current;
  const note = hint ? `Added the rule: ${hint}` : 'No change: the prompt already covers the rubric.';
  return {
    recognized: true,
    facts: {
      verdict: 'pass',
      label: 1,
      needsReview: false,
      reasoning: note,
      summary: note,
      explanation: note,
      critique: note,
      prompt: edited,
      confidence: 0.8,
      text: edited,
    },
  };
}

export function answer(input: AnswerInput, o: LlmSimOptions): Answer {
  switch (input.kind) {
    case LLM_REQUEST_KINDS.judge:
      return judge(input, o);
    case LLM_REQUEST_KINDS.goldenAggregate:
      return goldenAggregate(input, o);
    case LLM_REQUEST_KINDS.rationaleMerge:
      return rationaleMerge(input);
    case LLM_REQUEST_KINDS.promptCritique:
      return promptCritique(input, o);
    case LLM_REQUEST_KINDS.promptEdit:
      return promptEdit(input, o);
    default:
      return unrecognized(
        `unknown request kind ${JSON.stringify(input.kind)}; judgeflow names the kind in response_format.json_schema.name.`,
        input.prompt,
      );
  }
}
