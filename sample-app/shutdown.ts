/**
 * Stop cleanly on SIGINT / SIGTERM: run the closers once, then exit; a second signal exits at once.
 *
 * @module
 */

/** Run `closers` in order on the first SIGINT or SIGTERM, then exit with code 0 (1 if one failed). */
export function onShutdown(...closers: Array<() => Promise<void> | void>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(130);
    stopping = true;
    console.log(`\n${signal}: shutting down`);
    void (async () => {
      let code = 0;
      for (const close of closers) {
        try {
          await close();
        } catch (err) {
          code = 1;
          console.error(err);
        }
      }
      process.exit(code);
    })();
  };
  process.on('SIGINT', stop).on('SIGTERM', stop);
}
