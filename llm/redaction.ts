/**
 * Personal data out of every LLM request: before a chat body leaves the process (sync or a Batch API
 * line), each message's text is scanned for emails, phone numbers, the names on LLM_REDACT_NAMES and
 * the patterns of LLM_REDACT_PATTERNS, and each match is replaced by `[redacted:<rule>]`. The count
 * goes into the usage ledger with the request. Redaction is deterministic, so a prompt's cache
 * prefix and a stored judgment's key do not move.
 */
import type { ChatMessage } from '../judging/prompts/judge';

/** The rules on by default (LLM_REDACT_PATTERNS adds to them; a name there replaces one here). */
export const DEFAULT_REDACTION_PATTERNS: Readonly<Record<string, string>> = {
  email: String.raw`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`,
  // Digit groups joined by separators, as phone numbers are written ("+44 20 7946 0958",
  // "(415) 555-0134"); years, ranges and runtimes in synopses have too few groups to match.
  phone: String.raw`(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)|\d{2,4})[\s.-]\d{3,4}[\s.-]\d{3,4}(?!\d)`,
};

/**
 * A character every match of a default rule contains: a text without it is not scanned (most texts
 * hold no "@", and scanning them for emails was a third of redaction's cost). Keyed by the rule's
 * source, so a rule LLM_REDACT_PATTERNS redefines under the same name is always scanned.
 */
const REQUIRED_CHARACTER: Readonly<Record<string, string | undefined>> = { [DEFAULT_REDACTION_PATTERNS.email]: '@' };

export interface RedactionSettings {
  enabled: boolean;
  /** Extra rules by name: a regular expression's source. */
  patterns: Record<string, string>;
  /** People's names to redact wherever they appear as whole words. */
  names: string[];
}

export interface Redactor {
  /**
   * The text with every match replaced, and how many there were. A `repeated` text (a system
   * prompt, the same for every item its judge judges) is remembered and not scanned again.
   */
  redact(text: string, repeated?: boolean): { text: string; count: number };
}

export const noRedaction: Redactor = { redact: (text) => ({ text, count: 0 }) };

/** Compiles the rules once per process; an invalid pattern throws naming its rule. */
export function createRedactor(settings: RedactionSettings): Redactor {
  if (!settings.enabled) return noRedaction;
  const rules = Object.entries({ ...DEFAULT_REDACTION_PATTERNS, ...settings.patterns }).map(([name, source]) => {
    try {
      return { name, pattern: new RegExp(source, 'g'), required: REQUIRED_CHARACTER[source] };
    } catch (err) {
      throw new Error(
        `LLM_REDACT_PATTERNS: rule "${name}" is not a valid regular expression: ${(err as Error).message}`,
        { cause: err },
      );
    }
  });
  const names = settings.names.map((n) => n.trim()).filter(Boolean);
  if (names.length) {
    const alternatives = names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
    rules.push({
      name: 'name',
      required: undefined,
      pattern: new RegExp(`(?<![\\p{L}\\p{N}])(?:${alternatives})(?![\\p{L}\\p{N}])`, 'giu'),
    });
  }
  // A judge's system prompt is the same for every item it judges: scanned once, not per request (the
  // scan of a 4 KB prompt costs ~0.08 ms, a quarter of a core at 3,000 requests/s). Texts of one
  // request (an item's message) are not kept: remembering each of them held them past the young
  // generation and made the garbage collector move them for nothing.
  const seen = new Map<string, { text: string; count: number }>();
  return {
    redact(original, repeated = false) {
      const known = repeated ? seen.get(original) : undefined;
      if (known) return known;
      let count = 0;
      let text = original;
      for (const { name, pattern, required } of rules) {
        if (required && !text.includes(required)) continue;
        text = text.replace(pattern, () => {
          count++;
          return `[redacted:${name}]`;
        });
      }
      const result = { text, count };
      if (!repeated) return result;
      if (seen.size >= REDACTION_MEMO_ENTRIES) seen.clear();
      seen.set(original, result);
      return result;
    },
  };
}

/** Distinct texts remembered per process: the prompts of every judge unit, with room to spare. */
const REDACTION_MEMO_ENTRIES = 512;

/** The messages as they may leave the process, and how many redactions that took. */
export function redactMessages(
  redactor: Redactor,
  messages: ChatMessage[],
): { messages: ChatMessage[]; count: number } {
  let count = 0;
  const redacted = messages.map((m) => {
    const r = redactor.redact(m.content, m.role === 'system');
    count += r.count;
    return r.count ? { ...m, content: r.text } : m;
  });
  return { messages: redacted, count };
}
