/**
 * Domain errors with stable codes, and the formatter that keeps programmer errors away from clients.
 * Services throw NotFoundError, ConflictError, ForbiddenError, InvalidInputError (with a path);
 * anything else is an internal error: logged with its stack, answered as INTERNAL_SERVER_ERROR.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

export const ERROR_CODES = [
  'BAD_USER_INPUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'RATE_LIMITED',
  'INTERNAL_SERVER_ERROR',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class DomainError extends GraphQLError {
  constructor(message: string, code: ErrorCode, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extensions, code } });
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string, id: string) {
    super(`${what} ${id} not found`, 'NOT_FOUND', { what, id });
  }
}

export class ConflictError extends DomainError {
  constructor(message: string, extensions: Record<string, unknown> = {}) {
    super(message, 'CONFLICT', extensions);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message = 'You are not allowed to do this') {
    super(message, 'FORBIDDEN');
  }
}

export class UnauthenticatedError extends DomainError {
  constructor(message: string) {
    super(message, 'UNAUTHENTICATED', { http: { status: 401 } });
  }
}

/** A client mistake in an input; `path` points at the offending value, e.g. `definition.and[1].op`. */
export class InvalidInputError extends DomainError {
  constructor(message: string, path: string) {
    super(`${path}: ${message}`, 'BAD_USER_INPUT', { path });
  }
}

/** Fails loudly on a broken assumption; the message is for logs, never for clients. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`Invariant failed: ${message}`);
}

const CLIENT_CODES: Record<string, ErrorCode> = {
  GRAPHQL_PARSE_FAILED: 'BAD_USER_INPUT',
  GRAPHQL_VALIDATION_FAILED: 'BAD_USER_INPUT',
  BAD_REQUEST: 'BAD_USER_INPUT',
  PERSISTED_QUERY_NOT_FOUND: 'BAD_USER_INPUT',
  PERSISTED_QUERY_NOT_SUPPORTED: 'BAD_USER_INPUT',
  OPERATION_RESOLUTION_FAILURE: 'BAD_USER_INPUT',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
};

/**
 * Apollo `formatError`: keeps coded client errors (mapping Apollo's own codes onto the contract's),
 * masks everything else. `onInternal` receives the original error for logging.
 */
export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
  onInternal: (error: unknown) => void,
): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  if (typeof code === 'string') {
    if ((ERROR_CODES as readonly string[]).includes(code) && code !== 'INTERNAL_SERVER_ERROR') {
      return stripStack(formatted);
    }
    const mapped = CLIENT_CODES[code];
    if (mapped) {
      return stripStack({
        ...formatted,
        extensions: { ...formatted.extensions, code: mapped, reason: code },
      });
    }
  }
  onInternal(unwrap(error));
  return {
    message: 'Internal server error',
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}

function stripStack(formatted: GraphQLFormattedError): GraphQLFormattedError {
  if (!formatted.extensions) return formatted;
  const {
    stacktrace: _stacktrace,
    exception: _exception,
    http: _http,
    ...rest
  } = formatted.extensions;
  return { ...formatted, extensions: rest };
}

function unwrap(error: unknown): unknown {
  return error instanceof GraphQLError && error.originalError ? error.originalError : error;
}
