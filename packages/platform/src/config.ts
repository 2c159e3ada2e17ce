/**
 * Configuration fragments and the fail-fast loader every service uses.
 * A service's own config.ts composes these fragments into one zod object and calls loadConfig once.
 */
import { z } from 'zod';

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment with the given schema; throws one ConfigError listing every problem. */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  // An empty variable means "not set" (docker-compose's `${VAR:-}` passes empty strings).
  const result = schema.safeParse(
    Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')),
  );
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  }
  return result.data;
}

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

export const postgresUrl = z
  .string()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// or postgresql:// URL');

/** Everything a subgraph service needs from the environment, besides its own settings. */
export function subgraphEnv(defaultPort: number) {
  return z.object({
    PORT: port(defaultPort),
    HOST: z.string().default('0.0.0.0'),
    DATABASE_URL: postgresUrl,
    /** NATS JetStream for the event bus; unset: the PostgreSQL event log in DATABASE_URL. */
    NATS_URL: z.string().optional(),
    /** Redelivery delays of failed messages in ms, comma-separated (the last repeats). */
    BUS_BACKOFF_MS: z
      .string()
      .regex(/^\d+(,\d+)*$/, 'must be comma-separated milliseconds, e.g. 1000,5000,30000')
      .optional(),
    GATEWAY_PROOF_SECRET: z.string().min(32, 'must be at least 32 characters'),
    /** Connections per pool of the service (its ORM; its event log uses at most 5). */
    DATABASE_POOL_MAX: z.coerce.number().int().positive().default(10),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  });
}
