/**
 * Builds a value that satisfies a request's JSON schema (the subset strict structured outputs
 * allow: objects, arrays, enums, const, anyOf, $ref), filling each property by its name from the
 * facts of the answer — so whatever field names a judge schema uses, the output validates.
 */

export interface Facts {
  verdict: 'pass' | 'fail';
  /** 1 pass / 0 fail, or a Likert score 1..points. */
  label: number;
  needsReview: boolean;
  reasoning: string;
  summary: string;
  explanation: string;
  critique: string;
  prompt: string;
  confidence: number;
  /** Fallback for string fields with names we do not recognise. */
  text: string;
}

type Schema = Record<string, unknown>;

function resolve(schema: Schema, root: Schema): Schema {
  const ref = schema.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return schema;
  let node: unknown = root;
  for (const part of ref.slice(2).split('/'))
    node = (node as Schema | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  return node && typeof node === 'object' ? resolve(node as Schema, root) : {};
}

const typesOf = (schema: Schema): string[] =>
  Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === 'string' ? [schema.type] : [];

function enumChoice(values: unknown[], facts: Facts, name: string): unknown {
  const wanted = /review|flag|disagree/.test(name)
    ? String(facts.needsReview)
    : facts.verdict === 'pass'
      ? ['pass', 'yes', 'true', '1']
      : ['fail', 'no', 'false', '0'];
  const list = Array.isArray(wanted) ? wanted : [wanted];
  return (
    values.find((v) => list.some((w) => String(v).toLowerCase().startsWith(w))) ??
    values.find((v) => v === facts.label) ??
    values[0]
  );
}

function stringFor(name: string, facts: Facts): string {
  if (/summary|short/.test(name)) return facts.summary;
  if (/reason|think|analysis|chain|step/.test(name)) return facts.reasoning;
  if (/critique|feedback|diagnos|issue|problem/.test(name)) return facts.critique;
  if (/prompt|instruction|template|rubric/.test(name)) return facts.prompt;
  if (/explanation|rationale|justification|comment|merged|note/.test(name)) return facts.explanation;
  if (/verdict|decision|result|outcome/.test(name)) return facts.verdict;
  if (/label/.test(name)) return String(facts.label);
  return facts.text;
}

export function fillSchema(schema: Schema, facts: Facts, root: Schema = schema, name = ''): unknown {
  const s = resolve(schema, root);
  const lname = name.toLowerCase();
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum)) return enumChoice(s.enum, facts, lname);
  const branches = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (Array.isArray(branches) && branches.length) {
    // anyOf of constants (how zod writes a union of literals) is an enum
    const resolved = branches.map((b) => resolve(b, root));
    if (resolved.every((b) => 'const' in b))
      return enumChoice(
        resolved.map((b) => b.const),
        facts,
        lname,
      );
    const nonNull = branches.find((b) => !typesOf(resolve(b, root)).includes('null')) ?? branches[0];
    return fillSchema(nonNull, facts, root, name);
  }
  const types = typesOf(s);
  const type = types.find((t) => t !== 'null') ?? (s.properties ? 'object' : s.items ? 'array' : 'string');
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const props = (s.properties ?? {}) as Record<string, Schema>;
      for (const [key, child] of Object.entries(props)) out[key] = fillSchema(child, facts, root, key);
      return out;
    }
    case 'array': {
      const min = typeof s.minItems === 'number' ? s.minItems : 1;
      const max = typeof s.maxItems === 'number' ? s.maxItems : Math.max(min, 1);
      const count = Math.min(Math.max(min, 1), max);
      return Array.from({ length: count }, () =>
        fillSchema((s.items ?? {}) as Schema, facts, root, name.replace(/s$/, '')),
      );
    }
    case 'boolean':
      return /review|flag|disagree|uncertain|escalat/.test(lname) ? facts.needsReview : facts.verdict === 'pass';
    case 'integer':
    case 'number': {
      let value = /confiden|probab|certain/.test(lname) ? facts.confidence : facts.label;
      if (type === 'integer') value = Math.round(value);
      if (typeof s.minimum === 'number') value = Math.max(value, s.minimum);
      if (typeof s.maximum === 'number') value = Math.min(value, s.maximum);
      return value;
    }
    default: {
      let value = stringFor(lname, facts);
      if (typeof s.maxLength === 'number') value = value.slice(0, s.maxLength);
      if (typeof s.minLength === 'number' && value.length < s.minLength) value = value.padEnd(s.minLength, '.');
      return value;
    }
  }
}

/** A schema-violating variant of a valid value: a required field removed, or the wrong type. */
export function violateSchema(value: unknown, schema: Schema, root: Schema = schema): unknown {
  const s = resolve(schema, root);
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const required = Array.isArray(s.required) ? (s.required as string[]) : Object.keys(value);
    const copy = { ...(value as Record<string, unknown>) };
    const victim = required.find((k) => /verdict|label/.test(k)) ?? required[required.length - 1];
    if (victim !== undefined) {
      delete copy[victim];
      return copy;
    }
    return { ...copy, unexpected_field: true };
  }
  return typeof value === 'string' ? 42 : 'not what the schema asked for';
}
