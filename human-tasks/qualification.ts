/**
 * Who may take a task: a rater's own qualification (kinds, criteria, locales from the vendor's
 * rater list), read by assignment and by the gateway when a vendor routes a task to another rater.
 */

export interface Qualification {
  kinds?: string[];
  criteria?: string[];
  locales?: string[];
}

export const qualifies = (q: Qualification, kind: string, criteria: string[], locale: string) =>
  (!q.kinds || q.kinds.includes(kind)) &&
  (!q.criteria || criteria.every((c) => q.criteria!.includes(c))) &&
  (!q.locales || q.locales.includes(locale));
