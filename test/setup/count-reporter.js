/**
 * Jest reporter that ends the run with one plain line, `N passed, N failed`, which CI reads as the
 * test count. A suite that failed without a failing test (an import error, a throwing hook, no
 * tests at all) counts as one failed test, so a broken file can never look green.
 *
 * Jest adds its own summary (and coverage) reporters after every custom one, so the line is
 * written when the process exits, after everything Jest prints.
 *
 * @module
 */
import { writeSync } from 'node:fs';

export default class CountReporter {
  /** @type {string | undefined} */
  #line;

  constructor() {
    process.once('exit', () => {
      if (this.#line !== undefined) writeSync(process.stdout.fd, `${this.#line}\n`);
    });
  }

  /**
   * @param {unknown} _contexts
   * @param {import('@jest/test-result').AggregatedResult} results The whole run's results.
   */
  onRunComplete(_contexts, results) {
    let failed = results.numFailedTests;
    for (const suite of results.testResults) {
      const suiteFailed = suite.testExecError != null || Boolean(suite.failureMessage);
      if (suiteFailed && suite.numFailingTests === 0) failed += 1;
    }
    this.#line = `${results.numPassedTests} passed, ${failed} failed`;
  }
}
