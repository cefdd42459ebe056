// The tests that measure a rate, alone and one at a time (test/measuring-tests.js says why).
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: undefined,
  testRegex: require('./test/measuring-tests').map((p) => p.replace('<rootDir>', '')),
  testPathIgnorePatterns: ['/node_modules/', '/.data/'],
  maxWorkers: 1,
};
