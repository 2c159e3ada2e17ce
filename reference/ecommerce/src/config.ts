/** The only place the e-commerce subgraph reads its environment. */
import { loadConfig, subgraphEnv } from '@marketing/platform';

export const ecommerceEnv = subgraphEnv(4005);
export type EcommerceConfig = ReturnType<typeof ecommerceEnv.parse>;

export function loadEcommerceConfig(env: NodeJS.ProcessEnv = process.env): EcommerceConfig {
  return loadConfig(ecommerceEnv, env);
}
