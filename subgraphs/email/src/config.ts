/** The only place the email subgraph reads its environment. */
import { loadConfig, subgraphEnv } from '@marketing/platform';

export const emailEnv = subgraphEnv(4003);
export type EmailConfig = ReturnType<typeof emailEnv.parse>;

export function loadEmailConfig(env: NodeJS.ProcessEnv = process.env): EmailConfig {
  return loadConfig(emailEnv, env);
}
