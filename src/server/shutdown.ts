import type { Logger } from '../log.js';

export interface SignalHandling {
  readonly logger: Logger;
  /** Stops everything gracefully (RunningGateway.close and whatever else runs beside it). */
  readonly stop: () => Promise<void>;
  /** SIGHUP: reload the rules; a failed reload keeps the previous ones. */
  readonly reload?: () => Promise<unknown>;
  /** If stopping takes longer than this, give up and exit 1. */
  readonly hardLimitMs: number;
  /** Default process.exit; tests may observe it instead. */
  readonly exit?: (code: number) => void;
}

/**
 * Process signals for a running gateway: SIGTERM and SIGINT stop it gracefully (no new
 * connections, in-flight requests drained within the configured grace, the audit trail flushed,
 * the store closed) and exit 0; a second signal, or a stop that outlives `hardLimitMs`, exits 1
 * at once. SIGHUP reloads the rules and the revocation list.
 */
export function handleSignals(options: SignalHandling): void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const { logger } = options;
  let stopping = false;
  let logClosed = false;
  const flushLog = (): Promise<void> =>
    new Promise((resolve) => {
      logClosed = true;
      const timer = setTimeout(resolve, 1000);
      logger.once('finish', () => {
        clearTimeout(timer);
        resolve();
      });
      logger.end();
    });
  const stop = (signal: string): void => {
    if (stopping) {
      if (!logClosed) logger.warn('second signal while stopping: exiting now', { signal });
      exit(1);
      return;
    }
    stopping = true;
    logger.info('stopping', { signal });
    const hard = setTimeout(() => {
      logger.error('stopping took too long: exiting', { limitMs: options.hardLimitMs });
      exit(1);
    }, options.hardLimitMs);
    hard.unref();
    options.stop().then(
      async () => {
        clearTimeout(hard);
        logger.info('stopped', { signal });
        await flushLog();
        exit(0);
      },
      async (err: unknown) => {
        clearTimeout(hard);
        logger.error('stopping failed', { error: (err as Error)?.message });
        await flushLog();
        exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (options.reload) {
    const reload = options.reload;
    process.on('SIGHUP', () => {
      reload().catch((err: unknown) => logger.error('reload refused; the previous rules stay in force', { error: (err as Error).message }));
    });
  }
}
