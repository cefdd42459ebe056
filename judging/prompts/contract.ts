/**
 * The shape of what judgeflow sends to an LLM, shared by the prompt builders and anything that
 * reads prompts (a real model reads them as text; the simulator parses them). Every request names
 * its kind as the structured-output schema name, and wraps the material in XML-like tags.
 */
export const LLM_REQUEST_KINDS = {
  judge: 'judge_verdict', // one criterion (or one factuality agent) of one synopsis
  goldenAggregate: 'golden_aggregate', // raters' labels + explanations → one label
  rationaleMerge: 'rationale_merge', // factuality agents' rationales → one explanation
  promptCritique: 'prompt_critique', // dev-set errors → critique of a judge prompt
  promptEdit: 'prompt_edit', // critique → edited judge prompt
} as const;
export type LlmRequestKind = (typeof LLM_REQUEST_KINDS)[keyof typeof LLM_REQUEST_KINDS];

/** Tags used in prompts. `criterion` holds e.g. `tone` or `factuality.talent`. */
export const TAGS = ['synopsis', 'criterion', 'show', 'rubric', 'ratings', 'rationales', 'prompt', 'errors', 'critique'] as const;
export type Tag = (typeof TAGS)[number];

export const wrapTag = (tag: Tag, body: string) => `<${tag}>\n${body}\n</${tag}>`;

export function extractTag(text: string, tag: Tag): string | undefined {
  const open = `<${tag}>`;
  const start = text.indexOf(open);
  if (start < 0) return undefined;
  const end = text.indexOf(`</${tag}>`, start + open.length);
  if (end < 0) return undefined;
  return text.slice(start + open.length, end).replace(/^\n/, '').replace(/\n$/, '');
}
