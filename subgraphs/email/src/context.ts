/** The per-request context of the email subgraph. */
import type { SubgraphContext } from '@marketing/platform';
import type { EmailLoaders } from './loaders.js';

export type EmailContext = SubgraphContext<EmailLoaders>;
