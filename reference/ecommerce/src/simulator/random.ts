/**
 * Seeded randomness for the shop simulator: one small PRNG (mulberry32), a way to derive
 * independent streams from one seed, and the handful of distributions the population model draws
 * from. Everything random in the simulator goes through here, so a seed fully determines a run and
 * Math.random is never needed.
 */

export type Random = () => number;

/** A mulberry32 generator returning floats in [0, 1); any finite number is accepted as a seed. */
export function createRandom(seed: number): Random {
  let state = fmix32(toUint32(seed));
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A seed for one named part of the model. Separate streams keep, say, the catalogue identical when
 * only the number of customers changes.
 */
export function deriveSeed(seed: number, stream: string): number {
  let hash = 0x811c9dc5 ^ toUint32(seed);
  for (let i = 0; i < stream.length; i++) {
    hash = Math.imul(hash ^ stream.charCodeAt(i), 0x01000193);
  }
  return fmix32(hash >>> 0);
}

function toUint32(seed: number): number {
  if (!Number.isFinite(seed)) throw new RangeError(`Seed must be a finite number, got ${seed}`);
  const whole = Math.trunc(seed);
  // Fold the high bits in so seeds beyond 2^32 still give distinct streams.
  return ((whole >>> 0) ^ (Math.floor(whole / 4294967296) >>> 0)) >>> 0;
}

// MurmurHash3's finaliser: neighbouring seeds (1, 2, 3...) end up with unrelated starting states.
function fmix32(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export function chance(rng: Random, probability: number): boolean {
  return rng() < probability;
}

/** An integer in [min, max], both inclusive. */
export function intBetween(rng: Random, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

export function pick<T>(rng: Random, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)];
}

export function standardNormal(rng: Random): number {
  // 1 - rng() lies in (0, 1], so the logarithm stays finite.
  const radius = Math.sqrt(-2 * Math.log(1 - rng()));
  return radius * Math.cos(2 * Math.PI * rng());
}

/** Log-normal with the given median; `spread` is the standard deviation of its logarithm. */
export function logNormal(rng: Random, median: number, spread: number): number {
  return median * Math.exp(spread * standardNormal(rng));
}

/** Pareto type I: never below `minimum`, with a heavier tail the smaller `alpha` is. */
export function pareto(rng: Random, minimum: number, alpha: number): number {
  return minimum * Math.pow(1 - rng(), -1 / alpha);
}

export function exponential(rng: Random, mean: number): number {
  return -mean * Math.log(1 - rng());
}

/** Knuth's method: fine for the small per-day rates the model uses. */
export function poisson(rng: Random, mean: number): number {
  if (mean <= 0) return 0;
  const limit = Math.exp(-mean);
  let count = 0;
  let product = rng();
  while (product > limit) {
    count++;
    product *= rng();
  }
  return count;
}

/** Fisher-Yates, returning a new array. */
export function shuffled<T>(rng: Random, items: readonly T[]): T[] {
  const result = [...items];
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [result[i], result[j]] = [result[j], result[i]];
  }
  return result;
}

/** Draws items in proportion to their weights in O(log n), for tables sampled millions of times. */
export class WeightedTable<T> {
  private readonly cumulative: number[] = [];
  private readonly total: number;

  constructor(
    private readonly items: readonly T[],
    weights: readonly number[],
  ) {
    if (items.length === 0 || items.length !== weights.length) {
      throw new RangeError('A weighted table needs one positive weight per item');
    }
    let sum = 0;
    for (const weight of weights) {
      sum += weight;
      this.cumulative.push(sum);
    }
    this.total = sum;
  }

  sample(rng: Random): T {
    const target = rng() * this.total;
    let low = 0;
    let high = this.cumulative.length - 1;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.cumulative[mid] > target) high = mid;
      else low = mid + 1;
    }
    return this.items[low];
  }
}
