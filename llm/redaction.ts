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

export interface RedactionSettings {
  enabled: boolean;
  /** Extra rules by name: a regular expression's source. */
  patterns: Record<string, string>;
  /** People's names to redact wherever they appear as whole words. */
  names: string[];
}

export interface Redactor {
  /** The text with every match replaced, and how many there were. */
  redact(text: string): { text: string; count: number };
}

export const noRedaction: Redactor = { redact: (text) => ({ text, count: 0 }) };

/** Compiles the rules once per process; an invalid pattern throws naming its rule. */
export function createRedactor(settings: RedactionSettings): Redactor {
  if (!settings.enabled) return noRedaction;
  const rules = Object.entries({ ...DEFAULT_REDACTION_PATTERNS, ...settings.patterns }).map(([name, source]) => {
    try {
      return { name, pattern: new RegExp(source, 'g') };
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
      pattern: new RegExp(`(?<![\\p{L}\\p{N}])(?:${alternatives})(?![\\p{L}\\p{N}])`, 'giu'),
    });
  }
  // A judge's system prompt is the same for every item it judges: scanned once, not per request (the
  // scan of a 4 KB prompt costs ~0.08 ms, a quarter of a core at 3,000 requests/s).
  const seen = new Map<string, { text: string; count: number }>();
  return {
    redact(original) {
      const known = seen.get(original);
      if (known) return known;
      let count = 0;
      let text = original;
      for (const { name, pattern } of rules)
        text = text.replace(pattern, () => {
          count++;
          return `[redacted:${name}]`;
        });
      if (seen.size >= REDACTION_MEMO_ENTRIES) seen.clear();
      const result = { text, count };
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
    const r = redactor.redact(m.content);
    count += r.count;
    return r.count ? { ...m, content: r.text } : m;
  });
  return { messages: redacted, count };
}
