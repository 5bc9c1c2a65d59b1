/**
 * The results table: one row per measurement, with its ratio to the reference measured beside it
 * and, where the issue set one, the target and whether it was met. Rendered as markdown.
 *
 * @module
 */

/** A target the issue sets, judged on the median. */
export interface Target {
  /** e.g. `≥ 0.55× raw PAR`. */
  text: string;
  pass: boolean;
}

/** One line of the table. */
export interface Row {
  scenario: string;
  measurement: string;
  /** Median (min–max) with its unit. */
  result: string;
  /** Ratio to the reference, median (min–max), with the reference named. */
  ratio?: string;
  target?: Target;
}

/** Collects rows and notes while the scenarios run. */
export class Report {
  readonly rows: Row[] = [];
  readonly notes: string[] = [];
  readonly problems: string[] = [];

  add(row: Row): void {
    this.rows.push(row);
  }

  /** A remark printed under the table (a skipped variant, a reference's caveat). */
  note(text: string): void {
    this.notes.push(text);
  }

  /** Something that did not work (an unexpected status, a failed walk); fails a smoke run. */
  problem(text: string): void {
    this.problems.push(text);
  }

  /** Targets met and missed. */
  targets(): { met: number; missed: number } {
    const judged = this.rows.filter((row) => row.target !== undefined);
    const met = judged.filter((row) => row.target!.pass).length;
    return { met, missed: judged.length - met };
  }

  /** The table, notes and problems as markdown. `judged` false prints targets without a verdict. */
  markdown(heading: string, judged: boolean): string {
    const cell = (text: string | undefined): string => (text ?? '').replace(/\|/g, '\\|');
    const lines = [
      `# ${heading}`,
      '',
      '| Scenario | Measurement | Result: median (min–max) | Ratio: median (min–max) | Target | Verdict |',
      '|---|---|---|---|---|---|',
      // Stable sort: rows keep their order within a scenario (scenario 2 also adds scenario 4's cookie rows).
      ...[...this.rows]
        .sort((a, b) => a.scenario.localeCompare(b.scenario))
        .map(
          (row) =>
            `| ${[
              row.scenario,
              row.measurement,
              row.result,
              row.ratio,
              row.target?.text,
              row.target === undefined
                ? ''
                : !judged
                  ? 'not judged (smoke)'
                  : row.target.pass
                    ? '**pass**'
                    : '**FAIL**',
            ]
              .map(cell)
              .join(' | ')} |`,
        ),
    ];
    if (judged) {
      const { met, missed } = this.targets();
      lines.push('', `Targets: ${met} met, ${missed} missed.`);
    }
    if (this.notes.length > 0) lines.push('', '## Notes', '', ...this.notes.map((note) => `- ${note}`));
    if (this.problems.length > 0)
      lines.push('', '## Problems', '', ...this.problems.map((problem) => `- ${problem}`));
    return `${lines.join('\n')}\n`;
  }
}
