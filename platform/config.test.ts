import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig, usesEmbeddedPostgres, usesEmbeddedTemporal, usesLlmSimulator } from './config';
import { SETTINGS } from './settings';

describe('config', () => {
  test('an empty environment selects the embedded stack with documented defaults', () => {
    const config = loadConfig({});
    expect(usesEmbeddedTemporal(config)).toBe(true);
    expect(usesEmbeddedPostgres(config)).toBe(true);
    expect(usesLlmSimulator(config)).toBe(true);
    expect(config.temporal).toMatchObject({
      namespace: 'default',
      taskQueue: 'judgeflow',
      devPort: 7233,
      uiPort: 8233,
      uiUrl: 'http://localhost:8233',
    });
    expect(config.database.embeddedPort).toBe(54329);
    expect(config.dataDir).toBe(path.resolve('.data'));
  });

  test('external services are configuration only', () => {
    const config = loadConfig({
      TEMPORAL_ADDRESS: 'my-ns.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'my-ns.a1b2c',
      TEMPORAL_API_KEY: 'key',
      DATABASE_URL: 'postgres://u:p@db.internal:5432/judgeflow',
      OPENAI_API_KEY: 'sk-test',
    });
    expect(usesEmbeddedTemporal(config)).toBe(false);
    expect(usesEmbeddedPostgres(config)).toBe(false);
    expect(usesLlmSimulator(config)).toBe(false);
  });

  test.each([
    ['TEMPORAL_ADDRESS', 'nonsense', /TEMPORAL_ADDRESS="nonsense": expected host:port/],
    ['TEMPORAL_UI_PORT', '99999', /TEMPORAL_UI_PORT="99999"/],
    ['EMBEDDED_PG_PORT', 'abc', /EMBEDDED_PG_PORT="abc"/],
    ['DATABASE_URL', 'mysql://x@y/z', /DATABASE_URL=.*expected a postgres:\/\/ URL/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL="loud"/],
    ['TEMPORAL_TLS', 'maybe', /TEMPORAL_TLS="maybe"/],
  ])('a bad %s fails with a message naming it', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  test('every problem is reported at once', () => {
    try {
      loadConfig({ TEMPORAL_ADDRESS: 'nonsense', GATEWAY_PORT: '0' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect((err as ConfigError).problems).toHaveLength(2);
    }
  });

  test('the README settings table lists every setting with its default', () => {
    const readme = fs.readFileSync(path.resolve(__dirname, '../README.md'), 'utf8');
    for (const setting of SETTINGS as readonly { env: string; default?: string }[]) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${setting.env}\``));
      expect(row).toBeDefined();
      if (setting.default !== undefined) expect(row).toContain(`\`${setting.default}\``);
    }
  });
});
