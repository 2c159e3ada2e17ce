/**
 * What can be checked of the deployment files without a Docker engine: every compose service runs
 * a real entry point, its environment satisfies that service's configuration, and the Dockerfile
 * copies every workspace.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gatewayEnv } from '@marketing/gateway';
import { subgraphEnv } from '@marketing/platform';
import { parse } from 'yaml';
import { SUBGRAPHS } from './services.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const compose = parse(readFileSync(`${repo}docker-compose.yml`, 'utf8'), { merge: true }) as {
  services: Record<
    string,
    { command?: string[]; environment?: Record<string, string>; build?: string }
  >;
};

/** Substitutes as docker compose would: `${VAR:?message}` with a value set, `${VAR:-default}` unset. */
function interpolate(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [
      k,
      String(v)
        .replace(/\$\{(\w+):\?[^}]*\}/g, (_m, name: string) =>
          `${name.toLowerCase()}-`.padEnd(40, 'x'),
        )
        .replace(/\$\{\w+:-([^}]*)\}/g, (_m, fallback: string) => fallback),
    ]),
  );
}

describe('docker-compose.yml', () => {
  it('has PostgreSQL, NATS JetStream, Mailpit and every service', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [
        'analytics',
        'campaigns',
        'ecommerce',
        'email',
        'gateway',
        'mailpit',
        'nats',
        'postgres',
        'segments',
      ].sort(),
    );
    expect(compose.services.nats.command).toContain('-js');
  });

  it.each(SUBGRAPHS.map((s) => [s.name, s] as const))(
    '%s runs its own entry point with a valid configuration',
    (name, entry) => {
      const service = compose.services[name];
      expect(service.command).toEqual([`${entry.dir}/dist/main.js`]);
      expect(existsSync(`${repo}${entry.dir}/src/main.ts`)).toBe(true);
      const env = interpolate(service.environment ?? {});
      expect(subgraphEnv(entry.port).safeParse(env).error?.issues ?? []).toEqual([]);
      expect(Number(env.PORT)).toBe(entry.port);
    },
  );

  it('gateway reaches every subgraph by its compose name and has a valid configuration', () => {
    const service = compose.services.gateway;
    expect(service.command).toEqual(['gateway/dist/main.js']);
    const env = interpolate(service.environment ?? {});
    const parsed = gatewayEnv.safeParse(
      Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')),
    );
    expect(parsed.error?.issues ?? []).toEqual([]);
    for (const entry of SUBGRAPHS) {
      expect(env[entry.gatewayUrlEnv]).toBe(`http://${entry.name}:${entry.port}/graphql`);
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(`${repo}Dockerfile`, 'utf8');
  const workspaces = [
    'packages/platform',
    'packages/stack',
    'reference/ecommerce',
    'gateway',
    'bench',
    ...SUBGRAPHS.filter((s) => s.name !== 'ecommerce').map((s) => s.dir),
  ];

  it.each(workspaces)('installs the dependencies of %s', (dir) => {
    expect(dockerfile).toContain(`COPY ${dir}/package.json ${dir}/`);
  });

  it('compiles with the image Node.js, not the pinned one its skipped install scripts would fetch', () => {
    expect(dockerfile).toMatch(/npm ci --ignore-scripts/);
    expect(dockerfile).toMatch(/^RUN node node_modules\/typescript\/bin\/tsc -b/m);
  });

  it('builds on Node.js 24 and runs as an unprivileged user', () => {
    expect(dockerfile.match(/^FROM node:24/gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^USER node$/m);
  });
});
