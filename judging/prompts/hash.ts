import { createHash } from 'node:crypto';
import type { JudgePromptContent } from './judge';

/** JSON with object keys sorted at every level, so equal content always hashes equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/** A judge prompt's identity: sha256 of its canonical content (template + settings + what it judges). */
export const promptHash = (content: JudgePromptContent) =>
  createHash('sha256').update(canonicalJson(content), 'utf8').digest('hex');
