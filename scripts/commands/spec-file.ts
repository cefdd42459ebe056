/** Reading a program spec file (YAML or JSON) for the commands that take one. */
import fs from 'node:fs';
import YAML from 'yaml';
import { validateProgramSpec, type ProgramSpec } from '../../schema/program-spec';
import { CliError } from './context';

export function readSpecFile(file: string): unknown {
  if (!fs.existsSync(file)) throw new CliError(`spec file not found: ${file}`);
  const text = fs.readFileSync(file, 'utf8');
  try {
    return file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new CliError(`${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
}

/** The validated spec of `file`, or exit 2 listing every problem. */
export function readValidSpec(file: string): ProgramSpec {
  const validation = validateProgramSpec(readSpecFile(file));
  if (!validation.ok)
    throw new CliError(
      `${file} is not a valid program spec:\n${validation.problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n')}`,
    );
  return validation.spec;
}
