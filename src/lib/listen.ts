import type { Server } from 'node:net';
import { CodedError } from '../errors.js';

/** What a port was for and the setting that moves it, for the person who has to fix it. */
export interface PortSetting {
  /** e.g. "the gateway", "the simulated bif-jobcentre-system". */
  readonly what: string;
  /** e.g. "SNITFLADE_PORT (or listen.port in the SNITFLADE_CONFIG file)". */
  readonly setting: string;
}

/**
 * The port a server was to listen on is taken (EADDRINUSE), most often by another instance that
 * is still running. A mistake a person fixes at start-up, so the message names the port and, when
 * the caller knows them (see `withSetting`), what it was for and the setting that moves it.
 */
export class PortInUseError extends CodedError {
  readonly code = 'ERR_PORT_IN_USE';
  readonly host: string;
  readonly port: number;
  readonly setting: PortSetting | undefined;

  constructor(host: string, port: number, setting?: PortSetting, options?: { cause?: unknown }) {
    super(
      setting === undefined
        ? `port ${port} on ${host} is already in use`
        : `port ${port} on ${host}, for ${setting.what}, is already in use. Another Snitflade may still be running ` +
            `(stop it: Ctrl-C in its terminal), or another program holds the port. To use another port, set ${setting.setting}.`,
      options,
    );
    this.host = host;
    this.port = port;
    this.setting = setting;
  }

  /** The same error, saying what the port was for and which setting moves it. */
  withSetting(setting: PortSetting): PortInUseError {
    return new PortInUseError(this.host, this.port, setting, { cause: this });
  }
}

/**
 * `server.listen(port, host)` as a promise that settles once the server listens; a port in use
 * rejects with PortInUseError, any other failure as Node reports it.
 *
 * @example
 *   await listenOn(server, 8443, '127.0.0.1');
 */
export function listenOn(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException): void => reject(err.code === 'EADDRINUSE' ? new PortInUseError(host, port) : err);
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}
