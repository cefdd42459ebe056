/** Rewrites the README's settings table from platform/config.ts (`npm run docs:settings`). */
import fs from 'node:fs';
import path from 'node:path';
import { SETTINGS, type Setting } from '../platform/settings';

const README = path.resolve(__dirname, '../README.md');
const START = '<!-- settings:start -->';
const END = '<!-- settings:end -->';

const rows = (SETTINGS as readonly Setting[]).map(
  (s) =>
    `| \`${s.env}\` | ${s.default !== undefined ? `\`${s.default}\`` : 'unset'} | ${s.description.replace(/\|/g, '\\|')} |`,
);
const table = ['| Setting | Default | What it does |', '| --- | --- | --- |', ...rows].join('\n');
const readme = fs.readFileSync(README, 'utf8');
const start = readme.indexOf(START);
const end = readme.indexOf(END);
if (start < 0 || end < start) throw new Error(`README.md lacks the ${START} … ${END} markers`);
fs.writeFileSync(README, `${readme.slice(0, start + START.length)}\n${table}\n${readme.slice(end)}`);
