/** A token bucket: `rate` tokens a second, bursts up to one second's worth. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = rate;
    this.last = now();
  }

  /** Milliseconds until a token is available (0 = now). */
  wait(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.rate) * 1_000);
  }

  take(): void {
    this.refill();
    this.tokens -= 1;
  }

  private refill() {
    const now = this.now();
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) / 1_000) * this.rate);
    this.last = now;
  }
}
