/** Writes the program spec's JSON Schema for editors (`npm run docs:spec-schema`). */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { programSpecSchema } from '../schema/program-spec';

export const SPEC_SCHEMA_FILE = path.resolve(__dirname, '../schema/program-spec.schema.json');

export function programSpecJsonSchema(): string {
  const schema = z.toJSONSchema(programSpecSchema, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, title: 'judgeflow program spec' }, null, 2)}\n`;
}

if (require.main === module) fs.writeFileSync(SPEC_SCHEMA_FILE, programSpecJsonSchema());
