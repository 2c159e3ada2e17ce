/**
 * The SSRF guard: which destination URLs may be saved, and which addresses a request may reach
 * (checked again on the resolved address, so a public-looking name for this host is refused).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, InvalidInputError } from '@marketing/platform';
import { loadAnalyticsConfig } from '../config.js';
import { DestinationKind } from './destination.entity.js';
import { keepAliveAgents, postJson } from './destination.http.js';
import { checkDestinationUrl } from './destination.url.js';

const STRICT = { allowLoopback: false };
const LOOPBACK = { allowLoopback: true };

function problem(url: string, policy = STRICT, kind = DestinationKind.WEBHOOK): string | null {
  try {
    checkDestinationUrl(url, kind, policy);
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      path: 'input.url',
    });
    return (error as Error).message.replace(/^input\.url: /, '');
  }
}

describe('checkDestinationUrl', () => {
  it('accepts https URLs of public hosts and drops the fragment', () => {
    expect(problem('https://hooks.example.com/in?x=1')).toBeNull();
    expect(
      checkDestinationUrl('https://hooks.example.com/in#frag', DestinationKind.WEBHOOK, STRICT),
    ).toBe('https://hooks.example.com/in');
    expect(problem('https://api.segment.io', STRICT, DestinationKind.SEGMENT)).toBeNull();
  });

  it.each([
    ['not a url', 'must be an absolute URL'],
    ['ftp://files.example.com/x', 'must be an https URL'],
    ['http://hooks.example.com/x', 'must be an https URL'],
    ['https://user:pw@hooks.example.com/x', 'must not carry credentials (use secret)'],
    ['https://localhost/x', 'must not point at this host'],
    ['https://127.0.0.1/x', 'must not point at this host'],
    ['https://2130706433/x', 'must not point at this host'],
    ['https://[::1]/x', 'must not point at this host'],
    ['https://[::ffff:127.0.0.1]/x', 'must not point at this host'],
    ['https://10.0.0.1/x', 'must not point at a private or reserved address'],
    ['https://172.16.5.4/x', 'must not point at a private or reserved address'],
    ['https://192.168.1.1/x', 'must not point at a private or reserved address'],
    ['https://169.254.169.254/latest/meta-data', 'must not point at a private or reserved address'],
    ['https://[fe80::1]/x', 'must not point at a private or reserved address'],
    ['https://[fd00::1]/x', 'must not point at a private or reserved address'],
    ['https://[::ffff:10.0.0.1]/x', 'must not point at a private or reserved address'],
    ['https://intranet/x', 'must name a public host'],
  ])('refuses %s: %s', (url, message) => {
    expect(problem(url)).toBe(message);
  });

  it('allows http and loopback only when the policy allows loopback, and never private networks', () => {
    expect(problem('http://127.0.0.1:8080/x', LOOPBACK)).toBeNull();
    expect(problem('http://localhost:8080/x', LOOPBACK)).toBeNull();
    expect(problem('http://hooks.example.com/x', LOOPBACK)).toBe('must be an https URL');
    expect(problem('https://10.0.0.1/x', LOOPBACK)).toBe(
      'must not point at a private or reserved address',
    );
  });

  it('wants the GA4 measurement id in the URL and the API secret out of it', () => {
    const ga4 = 'https://www.google-analytics.com/mp/collect';
    expect(problem(`${ga4}?measurement_id=G-1`, STRICT, DestinationKind.GA4)).toBeNull();
    expect(problem(ga4, STRICT, DestinationKind.GA4)).toMatch(/measurement_id/);
    expect(problem(`${ga4}?measurement_id=G-1&api_secret=x`, STRICT, DestinationKind.GA4)).toBe(
      'must not carry api_secret (use secret)',
    );
  });
});

describe('postJson', () => {
  let server: Server;
  let port: number;
  let requests = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      requests += 1;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const post = (url: string, policy = STRICT) =>
    postJson({ url, body: '{}', headers: {} }, { timeoutMs: 2_000, policy });

  it('refuses, for good, a name that resolves to a refused address, without sending anything', async () => {
    const outcome = await post(`http://localhost:${port}/x`);
    expect(outcome).toEqual({
      ok: false,
      retryable: false,
      error: expect.stringContaining('refused address'),
    });
    expect(await post(`http://127.0.0.1:${port}/x`)).toMatchObject({ ok: false, retryable: false });
    expect(requests).toBe(0);
  });

  it('connects to loopback when the policy allows it', async () => {
    expect(await post(`http://localhost:${port}/x`, LOOPBACK)).toEqual({
      ok: true,
      retryable: false,
    });
    expect(requests).toBe(1);
  });
});

describe('postJson on kept-alive connections', () => {
  it('sends again on a new connection when the receiver closed a kept-alive one under it', async () => {
    // The second request on any connection finds it closed, as when an idle timeout races a reuse.
    const perConnection = new Map<unknown, number>();
    let connections = 0;
    const server = createServer((req, res) => {
      const n = (perConnection.get(req.socket) ?? 0) + 1;
      perConnection.set(req.socket, n);
      if (n === 2) return void req.socket.destroy();
      res.end();
    });
    server.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const agents = keepAliveAgents(1);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
    const post = () =>
      postJson({ url, body: '{}', headers: {} }, { timeoutMs: 2_000, policy: LOOPBACK, agents });
    try {
      expect(await post()).toEqual({ ok: true, retryable: false });
      await new Promise((resolve) => setImmediate(resolve));
      expect(await post()).toEqual({ ok: true, retryable: false });
    } finally {
      agents.http.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    // The first connection carried the first request and the one it dropped.
    expect([...perConnection.values()]).toEqual([2, 1]);
    expect(connections).toBe(2);
  });
});

describe('DESTINATIONS_ALLOW_LOOPBACK', () => {
  const env = {
    DATABASE_URL: 'postgres://db/x',
    GATEWAY_PROOF_SECRET: 'x'.repeat(32),
    DESTINATIONS_ALLOW_LOOPBACK: 'true',
  };
  it('is refused in production and taken elsewhere', () => {
    expect(() => loadAnalyticsConfig({ ...env, NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(loadAnalyticsConfig({ ...env, NODE_ENV: 'test' }).DESTINATIONS_ALLOW_LOOPBACK).toBe(
      true,
    );
    expect(
      loadAnalyticsConfig({ ...env, DESTINATIONS_ALLOW_LOOPBACK: undefined })
        .DESTINATIONS_ALLOW_LOOPBACK,
    ).toBe(false);
  });
});
