/**
 * A service running as its own process (as in production), for fault tests and benchmarks: started
 * on a free loopback port with the given environment, up once /healthz answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';

export interface ServiceProcess {
  child: ChildProcess;
  origin: string;
  /** Resolves when the process has exited (SIGTERM: graceful; SIGKILL: a crash). */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Neither jest's NODE_OPTIONS nor the caller's NATS_URL leak in: `env` says what the service gets. */
export async function startServiceProcess(
  script: string,
  env: Record<string, string | undefined>,
): Promise<ServiceProcess> {
  const port = await freePort();
  const { NODE_OPTIONS: _jest, NATS_URL: _nats, ...inherited } = process.env;
  const child = spawn(process.execPath, [script], {
    env: { ...inherited, HOST: '127.0.0.1', LOG_LEVEL: 'error', ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const origin = `http://127.0.0.1:${port}`;
  const stop = (signal: NodeJS.Signals = 'SIGTERM') =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && child.exitCode === null) {
    const up = await fetch(`${origin}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return { child, origin, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop('SIGKILL');
  throw new Error(`${script} did not start (exit code ${child.exitCode})`);
}
