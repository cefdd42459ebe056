/** The program spec's vendor entries (schema/program-spec.ts), and the slug and variable-name fields it shares. */
import { z } from 'zod';

export const slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'expected a slug: lowercase letters, digits and dashes');
export const envName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'expected an environment variable name');

/**
 * A vendor of the program. Vendors are records of their own (`judgeflow vendor add`): `{ id }`
 * alone references one. An entry with the vendor's fields (name, kind, endpoint, rateCard and
 * secretEnv or secret) registers it when no vendor has that id, and is refused, naming the
 * differences, when the registered one differs: a program never changes a vendor (docs/vendors.md).
 */
export const vendorSpecSchema = z.object({
  id: slug,
  name: z.string().min(1).optional(),
  kind: z.enum(['http', 'label-studio']).optional(),
  /** Where judgeflow sends task batches (http) or the Label Studio base URL. */
  endpoint: z.string().url().optional(),
  /** Name of the environment variable holding the Standard Webhooks secret(s), comma-separated for rotation. */
  secretEnv: envName.optional(),
  /** The secret itself, sealed before it is stored (needs JUDGEFLOW_SECRET_KEY; prefer secretEnv). */
  secret: z.string().min(1).optional(),
  /** USD per task kind. */
  rateCard: z
    .object({
      rate: z.number().nonnegative(),
      review: z.number().nonnegative(),
      write: z.number().nonnegative(),
    })
    .optional(),
  /** Task kinds this vendor takes (a reference: the ones this program gives it, among the vendor's; unset: all of them). */
  roles: z
    .array(z.enum(['rate', 'review', 'write']))
    .min(1)
    .optional(),
  config: z.record(z.string(), z.unknown()).optional(),
});

/** An inline vendor needs every field of its record; a reference is its id (and the roles this program gives it). */
export function vendorEntryProblems(
  v: Record<string, unknown>,
  all: Record<string, unknown>[],
  i: number,
): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  if (all.findIndex((o) => o?.id === v.id) !== i)
    problems.push({ path: `vendors.${i}.id`, message: `duplicate vendor "${String(v.id)}"` });
  if (!INLINE_VENDOR_FIELDS.some((f) => v[f] !== undefined) && v.secret === undefined && v.secretEnv === undefined)
    return problems;
  const missing = INLINE_VENDOR_FIELDS.filter((f) => v[f] === undefined);
  if (v.secret === undefined && v.secretEnv === undefined) missing.push('secretEnv (or secret)');
  if (missing.length)
    problems.push({
      path: `vendors.${i}`,
      message: `an inline vendor needs ${missing.join(', ')}; to use a registered vendor give its id alone`,
    });
  return problems;
}
const INLINE_VENDOR_FIELDS = ['name', 'kind', 'endpoint', 'rateCard'];
