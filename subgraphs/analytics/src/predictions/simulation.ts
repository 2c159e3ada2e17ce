/**
 * Seeded simulation from the models' own generative stories, to check that a fit recovers known
 * parameters (and to try the models on synthetic shops). The generator is sfc32 seeded through
 * splitmix32: fast, 128 bits of state, reproducible across platforms.
 */
import { type BgNbdParams, type CustomerHistory } from './bg-nbd.model.js';
import { type GammaGammaParams } from './gamma-gamma.model.js';

// Bound once: a global lookup on every call is slow inside a VM sandbox such as jest's.
const { PI, cos, imul, log, sqrt } = Math;

/** Uniform numbers in [0, 1). */
export type Random = () => number;

export function seededRandom(seed: number): Random {
  let s = seed >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = imul(z ^ (z >>> 16), 0x85ebca6b);
    z = imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

function standardNormal(random: Random): number {
  const u = 1 - random();
  return sqrt(-2 * log(u)) * cos(2 * PI * random());
}

/** Gamma(shape, rate) by Marsaglia & Tsang (2000), boosted for shape < 1. */
export function sampleGamma(random: Random, shape: number, rate: number): number {
  if (shape < 1) return sampleGamma(random, shape + 1, rate) * (1 - random()) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / sqrt(9 * d);
  for (;;) {
    const x = standardNormal(random);
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    const u = 1 - random();
    if (log(u) < 0.5 * x * x + d - d * v + d * log(v)) return (d * v) / rate;
  }
}

export function sampleBeta(random: Random, a: number, b: number): number {
  const x = sampleGamma(random, a, 1);
  return x / (x + sampleGamma(random, b, 1));
}

export interface SimulatedCustomer extends CustomerHistory {
  /** Whether the customer had not dropped out by T (what P(alive) estimates). */
  alive: boolean;
  /** Purchases in (T, T + holdout] (what expectedPurchases(…, holdout) estimates). */
  holdoutPurchases: number;
}

/**
 * One BG/NBD customer per age T: λ ~ Gamma(r, α), p ~ Beta(a, b); purchases follow a Poisson(λ)
 * process from the first one at time 0, and after each repeat purchase the customer drops out with
 * probability p. The process also runs on for `holdout` periods past T.
 */
export function simulateBgNbd(
  params: BgNbdParams,
  ages: readonly number[],
  random: Random,
  holdout = 0,
): SimulatedCustomer[] {
  return ages.map((T) => {
    const lambda = sampleGamma(random, params.r, params.alpha);
    const dropout = sampleBeta(random, params.a, params.b);
    const customer = { frequency: 0, recency: 0, T, alive: true, holdoutPurchases: 0 };
    let now = 0;
    for (;;) {
      now -= log(1 - random()) / lambda;
      if (!(now <= T + holdout)) break;
      if (now <= T) {
        customer.frequency++;
        customer.recency = now;
      } else {
        customer.holdoutPurchases++;
      }
      if (random() < dropout) {
        if (now <= T) customer.alive = false;
        break;
      }
    }
    return customer;
  });
}

/** The mean of `frequency` purchase values of one Gamma-Gamma customer (ν ~ Gamma(q, v)). */
export function simulateMeanSpend(
  params: GammaGammaParams,
  frequency: number,
  random: Random,
): number {
  const nu = sampleGamma(random, params.q, params.v);
  let total = 0;
  for (let i = 0; i < frequency; i++) total += sampleGamma(random, params.p, nu);
  return total / frequency;
}
