/**
 * What a rating round disagreed on, the evidence a guideline revision is written from: the items
 * with the most split votes, how each rater pair agrees, how consistently raters cite each error
 * code of a criterion, and the raters furthest from the others' consensus. Pure, like the rest of
 * stats/, so the round workflow's gate details use the same digest as the CLI and the report.
 */
import { raterPairAgreement } from './agreement';
import type { Label, Rating } from './data';
import { disagreementByGroup, leaveOneOutAgreement, voteEntropyRanking, type ItemDisagreement } from './quality';

/** One rater's answer on one criterion of one item, as stored with the round's labels. */
export interface RoundLabel {
  item: string;
  rater: string;
  criterion: string;
  label: Label;
  errorCodes?: readonly string[];
  explanation?: string;
}

export interface SplitItem extends ItemDisagreement {
  criterion: string;
  /** Each rater's answer (with explanation and codes), for a reader to see why they split. */
  votes: Array<{ rater: string; label: Label; explanation: string; errorCodes: string[] }>;
}

export interface PairAgreement {
  raterA: string;
  raterB: string;
  /** Item × criterion answers both gave. */
  items: number;
  percent_agreement: number;
  cohen_kappa: number | null;
}

export interface RaterConsensus {
  rater: string;
  /** Answers compared with the majority of the other raters on the same item and criterion. */
  items: number;
  /** Answers skipped because the other raters tied. */
  skipped: number;
  agreement: number | null;
  kappa: number | null;
}

export interface CodeAgreement {
  criterion: string;
  /** null: the criterion's own labels; a code: whether each rater cited it, over the items where anyone did. */
  code: string | null;
  items: number;
  percent_agreement: number | null;
  krippendorff_alpha: number | null;
  meanEntropy: number;
  disputedItems: number;
}

export interface DisagreementAnalysis {
  labels: number;
  items: number;
  raterIds: string[];
  /** (item, criterion) with split votes, most split first; at most `top`. */
  splitItems: SplitItem[];
  /** Every rater pair sharing an answer, over all criteria, least agreeing first. */
  pairs: PairAgreement[];
  /** Per criterion and per error code cited under it, least agreeing first. */
  codes: CodeAgreement[];
  /** Every rater against the others' majority, furthest from consensus first. */
  raters: RaterConsensus[];
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** Nulls (undefined metrics) sort after every number. */
const ascNullLast = (a: number | null, b: number | null) => (a ?? Infinity) - (b ?? Infinity);
const SEP = '\u0001';

/** The last answer of each rater on each (item, criterion): a reassigned or re-sent task never counts twice. */
function latestAnswers(labels: readonly RoundLabel[]): RoundLabel[] {
  const m = new Map<string, RoundLabel>();
  for (const l of labels) m.set([l.criterion, l.item, l.rater].join(SEP), l);
  return [...m.values()];
}

function codeRatings(rows: readonly RoundLabel[]): Map<string, Rating[]> {
  const cited = new Map<string, Set<string>>();
  for (const r of rows)
    for (const code of r.errorCodes ?? []) cited.set(code, (cited.get(code) ?? new Set()).add(r.item));
  const out = new Map<string, Rating[]>();
  for (const [code, items] of [...cited].sort((a, b) => byText(a[0], b[0])))
    out.set(
      code,
      rows
        .filter((r) => items.has(r.item))
        .map((r) => ({ item: r.item, rater: r.rater, label: (r.errorCodes ?? []).includes(code) ? 1 : 0 })),
    );
  return out;
}

export function analyzeDisagreements(labels: readonly RoundLabel[], opts: { top?: number } = {}): DisagreementAnalysis {
  const rows = latestAnswers(labels);
  const byCriterion = new Map<string, RoundLabel[]>();
  for (const r of rows) byCriterion.set(r.criterion, [...(byCriterion.get(r.criterion) ?? []), r]);
  const splitItems: SplitItem[] = [];
  const groups: Record<string, Rating[]> = {};
  const groupKeys = new Map<string, { criterion: string; code: string | null }>();
  for (const [criterion, list] of byCriterion) {
    for (const d of voteEntropyRanking(list).filter((x) => x.entropy > 0)) {
      const votes = list
        .filter((r) => r.item === d.item)
        .map((r) => ({
          rater: r.rater,
          label: r.label,
          explanation: r.explanation ?? '',
          errorCodes: [...(r.errorCodes ?? [])],
        }))
        .sort((a, b) => byText(a.rater, b.rater));
      splitItems.push({ ...d, criterion, votes });
    }
    groups[criterion] = list;
    groupKeys.set(criterion, { criterion, code: null });
    for (const [code, ratings] of codeRatings(list)) {
      const key = `${criterion} × ${code}`;
      groups[key] = ratings;
      groupKeys.set(key, { criterion, code });
    }
  }
  // Among equally split items, the one more raters split on is the stronger evidence.
  splitItems.sort(
    (a, b) =>
      b.entropy - a.entropy || b.ratings - a.ratings || byText(a.criterion, b.criterion) || byText(a.item, b.item),
  );
  // Pairs and consensus pool the criteria: an answer is one (item, criterion).
  const pooled = rows.map((r) => ({ item: `${r.criterion}${SEP}${r.item}`, rater: r.rater, label: r.label }));
  return {
    labels: rows.length,
    items: new Set(rows.map((r) => r.item)).size,
    raterIds: [...new Set(rows.map((r) => r.rater))].sort(byText),
    splitItems: splitItems.slice(0, opts.top ?? splitItems.length),
    pairs: raterPairAgreement(pooled)
      .map(({ raterA, raterB, items, percent_agreement, cohen_kappa }) => ({
        ...(byText(raterA, raterB) <= 0 ? { raterA, raterB } : { raterA: raterB, raterB: raterA }),
        items,
        percent_agreement,
        cohen_kappa,
      }))
      .sort(
        (a, b) =>
          a.percent_agreement - b.percent_agreement ||
          b.items - a.items ||
          byText(a.raterA, b.raterA) ||
          byText(a.raterB, b.raterB),
      ),
    codes: disagreementByGroup(groups).map(({ group, ...g }) => ({ ...(groupKeys.get(group) as CodeAgreement), ...g })),
    raters: leaveOneOutAgreement(pooled).sort(
      (a, b) => ascNullLast(a.agreement, b.agreement) || ascNullLast(a.kappa, b.kappa) || byText(a.rater, b.rater),
    ),
  };
}

/** What a round gate shows in the Temporal UI and keeps in the workflow history: a few lines, never the matrix. */
export interface DisagreementDigest {
  labels: number;
  topItems: Array<{ criterion: string; item: string; entropy: number; votes: string }>;
  worstPairs: Array<{ raterA: string; raterB: string; items: number; agreement: number }>;
  furthestRaters: Array<{ rater: string; items: number; agreement: number | null }>;
  /** Error codes (never the criterion's own row) raters cite least consistently. */
  contestedCodes: Array<{ criterion: string; code: string; items: number; agreement: number | null }>;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const round3OrNull = (x: number | null) => (x === null ? null : round3(x));

/** A binary criterion's 1/0 read as pass/fail; any other label as itself. */
export const labelName = (l: Label, binary: boolean) =>
  binary && (l === 1 || l === 0) ? (l === 1 ? 'pass' : 'fail') : String(l);

/** `pass 2 · fail 1` for binary criteria (labels 0/1), `4: 2 · 2: 1` otherwise. */
export function formatVotes(counts: readonly { label: Label; count: number }[], binary: boolean): string {
  const name = (l: Label) => (binary ? labelName(l, true) : `${l}:`);
  return (
    [...counts]
      // most votes first; on a tie the higher label (pass) first
      .sort((a, b) => b.count - a.count || (a.label < b.label ? 1 : a.label > b.label ? -1 : 0))
      .map((c) => `${name(c.label)} ${c.count}`)
      .join(' · ')
  );
}

export function disagreementDigest(
  a: DisagreementAnalysis,
  opts: { top?: number; binary?: (criterion: string) => boolean } = {},
): DisagreementDigest {
  const top = opts.top ?? 3;
  const binary = opts.binary ?? (() => true);
  return {
    labels: a.labels,
    topItems: a.splitItems.slice(0, top).map((s) => ({
      criterion: s.criterion,
      item: s.item,
      entropy: round3(s.entropy),
      votes: formatVotes(s.counts, binary(s.criterion)),
    })),
    worstPairs: a.pairs.slice(0, top).map((p) => ({
      raterA: p.raterA,
      raterB: p.raterB,
      items: p.items,
      agreement: round3(p.percent_agreement),
    })),
    furthestRaters: a.raters
      .filter((r) => r.items > 0)
      .slice(0, top)
      .map((r) => ({ rater: r.rater, items: r.items, agreement: round3OrNull(r.agreement) })),
    contestedCodes: a.codes
      .filter((c): c is CodeAgreement & { code: string } => c.code !== null && c.disputedItems > 0)
      .slice(0, top)
      .map((c) => ({
        criterion: c.criterion,
        code: c.code,
        items: c.items,
        agreement: round3OrNull(c.percent_agreement),
      })),
  };
}

const pct = (x: number | null) => (x === null ? '—' : `${Math.round(x * 100)}%`);

/** The digest as Markdown, for the gate's current details in the Temporal UI. */
export function digestMarkdown(d: DisagreementDigest): string {
  if (!d.labels) return 'No labels in this round.';
  const lines = [
    `**Most split items**: ${d.topItems.map((t) => `${t.item} (${t.criterion}: ${t.votes})`).join('; ') || 'none, every item unanimous'}`,
    `**Least agreeing rater pairs**: ${d.worstPairs.map((p) => `${p.raterA} × ${p.raterB} ${pct(p.agreement)} of ${p.items}`).join('; ') || '—'}`,
    `**Furthest from consensus**: ${d.furthestRaters.map((r) => `${r.rater} ${pct(r.agreement)} of ${r.items}`).join('; ') || '—'}`,
  ];
  if (d.contestedCodes.length)
    lines.push(
      `**Error codes cited inconsistently**: ${d.contestedCodes.map((c) => `${c.criterion} × ${c.code} ${pct(c.agreement)} of ${c.items} items`).join('; ')}`,
    );
  return lines.join('\n\n');
}
