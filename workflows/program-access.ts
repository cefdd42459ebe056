/**
 * Who may steer a program: the owners its spec names (none: anyone, as before owners existed).
 * Viewers may only look, which the workflow cannot restrict (a query has no validator): they are
 * named so their refusal says so. The actor is what the CLI resolved (platform/identity.ts); an OS
 * user's is marked unverified and matches only an owner listed as `os:<user>` (docs/security.md).
 */

/** Starts the mark an unverified actor carries: `os:ann (unverified)`, `os:ann (unverified: night shift)`. */
export const UNVERIFIED_MARK = ' (unverified';

export interface ProgramAccess {
  owners?: string[];
  viewers?: string[];
}

/** The principal an actor names, as owners and viewers list it: the actor without its unverified mark. */
export function principalOf(actor: string): string {
  const mark = actor.indexOf(UNVERIFIED_MARK);
  return mark < 0 ? actor : actor.slice(0, mark);
}

/** Why `actor` may not steer the program, or undefined when it may. */
export function steeringRefusal(
  programId: string,
  access: ProgramAccess | undefined,
  actor: unknown,
): string | undefined {
  const owners = access?.owners ?? [];
  if (!owners.length) return undefined;
  if (typeof actor !== 'string' || !actor.trim())
    return `program ${programId} has owners (${owners.join(', ')}): a steering request must name its actor`;
  const principal = principalOf(actor);
  if (owners.includes(principal)) return undefined;
  const role = access?.viewers?.includes(principal)
    ? `${actor} is a viewer of program ${programId} (viewers may only query)`
    : `${actor} is not an owner of program ${programId}`;
  return `${role}; owners: ${owners.join(', ')}`;
}
