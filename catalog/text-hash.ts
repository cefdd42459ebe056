import { createHash } from 'node:crypto';

/** The key of a synopsis text (items.text_hash): judgments are keyed by it, so an edit is judged again. */
export const textHash = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
