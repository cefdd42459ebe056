import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { loadConfig } from '../platform/config';
import { specLocales } from './demo-locales';
import { BIN, CHILD_SERVICES } from './stack';

const vendorArgs = (spec: string) => {
  const raw = YAML.parse(fs.readFileSync(path.resolve(__dirname, '../examples', spec), 'utf8')) as {
    locales?: { code: string }[];
  };
  const vendor = CHILD_SERVICES.find((s) => s.name === 'vendor-sim')!;
  return vendor.argv(loadConfig(), { vendorLocales: specLocales(raw) });
};

test("the multilingual demo's simulated raters are natives of its locales; npm run demo's are unchanged", () => {
  expect(vendorArgs('multilingual-demo.yaml')).toEqual([BIN, 'sim', 'vendor', '--locales', 'en-US,es-ES']);
  expect(vendorArgs('demo-program.yaml')).toEqual([BIN, 'sim', 'vendor']);
});
