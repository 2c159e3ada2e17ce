/** Predictive customer-base models: BG/NBD, Gamma-Gamma, CLV and churn risk. No database. */
export * from './bg-nbd.model.js';
export * from './gamma-gamma.model.js';
export * from './lifetime-value.js';
export { type FitDiagnostics, type FitOptions, type ModelFit } from './maximum-likelihood.js';
export {
  type MinimizeOptions,
  type MinimizeResult,
  type Minimizer,
  nelderMead,
  type Objective,
} from './minimize.js';
export * from './rfm-summary.js';
export * from './simulation.js';
