/**
 * `npm start`: the whole platform on this machine with no configuration. Starts embedded
 * PostgreSQL in ./.data/postgres (kept between runs) unless DATABASE_URL is set, then every
 * subgraph and the gateway as their own processes (exactly as production runs them), waits until
 * each is ready, and prints the GraphQL URL, a dev admin token and the ingestion write key.
 * Ctrl-C stops everything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { signUserToken, startEmbeddedPostgres, type EmbeddedDatabase } from '@marketing/platform';
import { SUBGRAPHS } from './services.js';

const root = resolve(new URL('../../..', import.meta.url).pathname);
const dataDir = resolve(process.cwd(), '.data');
const children: { name: string; process: ChildProcess }[] = [];
let embedded: EmbeddedDatabase | undefined;
let stopping = false;

interface DevSecrets {
  jwtSecret: string;
  proofSecret: string;
  writeKey: string;
}

function devSecrets(): DevSecrets {
  const file = resolve(dataDir, 'dev-secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevSecrets;
  const secrets = {
    jwtSecret: randomBytes(32).toString('hex'),
    proofSecret: randomBytes(32).toString('hex'),
    writeKey: `wk_${randomBytes(18).toString('base64url')}`,
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

function startProcess(name: string, script: string, env: Record<string, string>): void {
  const child = spawn(process.execPath, [script], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `[${name}]`.padEnd(12);
  const forward = (stream: NodeJS.WritableStream) => (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n'))
      if (line.trim()) stream.write(`${prefix} ${line}\n`);
  };
  child.stdout?.on('data', forward(process.stdout));
  child.stderr?.on('data', forward(process.stderr));
  child.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(
      `${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping the platform`,
    );
    void shutdown(1);
  });
  children.push({ name, process: child });
}

async function waitReady(name: string, baseUrl: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopping) return;
    try {
      const response = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} did not become ready at ${baseUrl} within ${timeoutMs / 1000}s`);
}

async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await Promise.all(
      children.map(
        ({ process: child }) =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
          }),
      ),
    );
    await embedded?.stop().catch(() => {});
  }
  process.exit(code);
}

async function main(): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const secrets = devSecrets();
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    const port = Number(process.env.EMBEDDED_POSTGRES_PORT ?? 54320);
    console.log(`starting embedded PostgreSQL in ${resolve(dataDir, 'postgres')} on port ${port}`);
    embedded = await startEmbeddedPostgres({ dir: resolve(dataDir, 'postgres'), port });
    databaseUrl = embedded.url;
  }
  const jwtSecret = process.env.AUTH_JWT_SECRET ?? secrets.jwtSecret;
  const proofSecret = process.env.GATEWAY_PROOF_SECRET ?? secrets.proofSecret;
  const writeKey = process.env.INGEST_WRITE_KEY ?? secrets.writeKey;
  const logLevel = process.env.LOG_LEVEL ?? 'warn';
  const gatewayEnv: Record<string, string> = {};
  const subgraphs = SUBGRAPHS.filter(
    (s) => !(s.name === 'ecommerce' && process.env.ECOMMERCE_SUBGRAPH_URL),
  );
  for (const entry of subgraphs) {
    startProcess(entry.name, resolve(root, entry.dir, 'dist/main.js'), {
      PORT: String(entry.port),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      GATEWAY_PROOF_SECRET: proofSecret,
      LOG_LEVEL: logLevel,
    });
    gatewayEnv[entry.gatewayUrlEnv] = `http://127.0.0.1:${entry.port}/graphql`;
  }
  await Promise.all(subgraphs.map((s) => waitReady(s.name, `http://127.0.0.1:${s.port}`)));
  const port = process.env.PORT ?? '4000';
  startProcess('gateway', resolve(root, 'gateway/dist/main.js'), {
    ...gatewayEnv,
    PORT: port,
    DATABASE_URL: databaseUrl,
    GATEWAY_PROOF_SECRET: proofSecret,
    AUTH_JWT_SECRET: jwtSecret,
    INGEST_WRITE_KEY: writeKey,
    LOG_LEVEL: logLevel,
  });
  await waitReady('gateway', `http://127.0.0.1:${port}`);
  const token = await signUserToken(jwtSecret, {
    sub: 'dev-admin',
    roles: ['admin'],
    issuer: process.env.AUTH_ISSUER,
    audience: process.env.AUTH_AUDIENCE,
  });
  console.log(`
  Marketing platform is running.

  GraphQL:        http://localhost:${port}/graphql
  Dev admin JWT:  ${token}
  Ingestion key:  ${writeKey}   (HTTP Basic user name, empty password)

  Try: curl -s http://localhost:${port}/graphql -H 'content-type: application/json' \\
         -H 'authorization: Bearer ${token.slice(0, 12)}…' -d '{"query":"{ __typename }"}'
  Ctrl-C stops everything.
`);
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
main().catch((error: unknown) => {
  console.error('npm start failed:', error instanceof Error ? error.message : error);
  void shutdown(1);
});
