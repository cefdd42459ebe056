/**
 * A Label Studio project generated from a rater packet: the labeling config (one single-choice
 * <Choices> per criterion with one choice per value — pass/fail, or each point of a scale — a
 * multi-select <Choices name="<criterion>_errors"> of that criterion's error codes, a TextArea for
 * the explanation) and the instructions (guidelines, rubrics, codes, gold examples) as the
 * project's `expert_instruction` HTML. Annotations are read back with `choiceValue`.
 */
import type { RaterPacket } from '../schema/vendor-events';

/** Suffixes of the control tags a criterion's id is extended with. */
export const ERRORS_SUFFIX = '_errors';
export const EXPLANATION_SUFFIX = '_explanation';

const escape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/\n/g, '&#10;');

export function labelStudioConfig(packet: RaterPacket): string {
  const blocks = packet.criteria.map((c) => {
    const choices = c.values.map((v) => `<Choice value="${escape(v.label)}"/>`).join('');
    const codes = c.errorCodes
      .map((e) => `<Choice value="${escape(e.code)}" hint="${escape(e.description)}"/>`)
      .join('');
    return [
      `  <Header value="${escape(`${c.name}: ${c.description}`)}" size="5"/>`,
      `  <Choices name="${c.id}" toName="text" choice="single" required="true" showInline="true">${choices}</Choices>`,
      ...(codes
        ? [`  <Choices name="${c.id}${ERRORS_SUFFIX}" toName="text" choice="multiple">${codes}</Choices>`]
        : []),
      `  <TextArea name="${c.id}${EXPLANATION_SUFFIX}" toName="text" placeholder="Why (required for a fail)"/>`,
    ].join('\n');
  });
  return [
    '<View>',
    `  <Header value="${escape(`${packet.programName}: guidelines v${packet.version}`)}"/>`,
    '  <Header value="$title" size="4"/>',
    '  <Text name="text" value="$text"/>',
    ...blocks,
    '</View>',
  ].join('\n');
}

const paragraphs = (text: string) =>
  text
    .split(/\n\s*\n/)
    .map((p) => `<p>${escape(p.trim()).replace(/&#10;/g, '<br/>')}</p>`)
    .join('');

export function labelStudioInstructions(packet: RaterPacket): string {
  const criteria = packet.criteria.map(
    (c) =>
      `<h3>${escape(c.name)}</h3>${paragraphs(c.rubric)}<p>Values: ${c.values
        .map((v) => escape(v.label))
        .join(' / ')}</p>${
        c.errorCodes.length
          ? `<ul>${c.errorCodes.map((e) => `<li><b>${escape(e.code)}</b>: ${escape(e.description)}</li>`).join('')}</ul>`
          : ''
      }`,
  );
  const examples = packet.goldExamples.map(
    (g) =>
      `<h3>${escape(g.title || g.itemId)}</h3><blockquote>${escape(g.text)}</blockquote><p>${Object.entries(g.labels)
        .map(([criterion, value]) => `${escape(criterion)}: ${value}`)
        .join(', ')}</p>${g.explanation ? paragraphs(g.explanation) : ''}`,
  );
  return [
    `<h2>Guidelines v${packet.version}</h2>`,
    paragraphs(packet.guidelines),
    '<h2>Criteria</h2>',
    ...criteria,
    ...(examples.length ? ['<h2>Gold examples</h2>', ...examples] : []),
  ].join('');
}

/**
 * The label value of a criterion's choice (pass 1, fail 0, a scale's point its number), or null
 * for a choice no generated config offers. Labels are matched case-insensitively, as before.
 */
export function choiceValue(choice: string): number | null {
  const c = choice.trim().toLowerCase();
  if (c === 'pass') return 1;
  if (c === 'fail') return 0;
  return /^(0|[1-9]\d?)$/.test(c) ? Number(c) : null;
}
