/** Jest in native ESM mode (jose and oidc-provider are ESM-only; Jest's CommonJS mode cannot load them on Node 20). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Real-browser tests need chromium and run through `npm run test:browser` (jest.browser.config.js).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/browser/'],
  setupFiles: ['<rootDir>/test/setup/realm.ts'],
  reporters: ['default', '<rootDir>/test/setup/count-reporter.js'],
  testTimeout: 30000,
};
