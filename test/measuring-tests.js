/**
 * Tests that measure a rate (utilization of a provider limit) need the machine to themselves: beside
 * the rest of the suite on two cores they measure the load, not the code (CI: 0.886 of the limit
 * with another test's workers busy; 0.998 alone). `jest` leaves them out; `npm test` runs them
 * after the rest, one at a time, with `jest -c jest.measuring.config.js`.
 */
module.exports = ['<rootDir>/llm/shared-limit-workers\\.test\\.ts$'];
