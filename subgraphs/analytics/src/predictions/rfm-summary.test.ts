import { buildRfmSummaries, type Order } from './rfm-summary.js';

const at = (iso: string) => new Date(iso);

describe('buildRfmSummaries', () => {
  const orders: Order[] = [
    { customerId: 'a', at: at('2024-01-01T09:00:00Z'), amount: 10 },
    { customerId: 'a', at: at('2024-01-01T18:00:00Z'), amount: 5 }, // same day as the first
    { customerId: 'a', at: at('2024-01-08T10:00:00Z'), amount: 20 },
    { customerId: 'a', at: at('2024-01-08T11:00:00Z'), amount: 10 }, // same day: one occasion of 30
    { customerId: 'a', at: at('2024-01-15T10:00:00Z'), amount: 40 },
    { customerId: 'b', at: at('2024-01-10T12:00:00Z'), amount: 99 },
    { customerId: 'a', at: at('2024-02-01T10:00:00Z'), amount: 1000 }, // after the end
    { customerId: 'c', at: at('2024-02-01T10:00:00Z'), amount: 1000 }, // only after the end
  ];
  const end = at('2024-01-29T23:59:59Z');

  it('counts repeat purchase days, the last one, the age and the mean repeat spend in days', () => {
    const [a, b] = buildRfmSummaries(orders, end);
    expect(a).toEqual({
      customerId: 'a',
      frequency: 2,
      recency: 14,
      T: 28,
      monetaryValue: 35, // (30 + 40) / 2: the first day's 15 is not a repeat purchase
      firstPurchaseAt: at('2024-01-01T09:00:00Z'),
    });
    expect(b).toEqual({
      customerId: 'b',
      frequency: 0,
      recency: 0,
      T: 19,
      monetaryValue: 0,
      firstPurchaseAt: at('2024-01-10T12:00:00Z'),
    });
  });

  it('leaves out customers whose first order comes after the end', () => {
    expect(buildRfmSummaries(orders, end).map((s) => s.customerId)).toEqual(['a', 'b']);
  });

  it('measures in weeks with periodDays = 7', () => {
    const [a] = buildRfmSummaries(orders, end, { periodDays: 7 });
    expect(a.recency).toBe(2);
    expect(a.T).toBe(4);
  });

  it('starts calendar days at the shop’s UTC offset', () => {
    const late = [
      { customerId: 'x', at: at('2024-03-01T20:00:00Z'), amount: 1 },
      { customerId: 'x', at: at('2024-03-01T23:30:00Z'), amount: 1 },
    ];
    const march2 = at('2024-03-02T12:00:00Z');
    expect(buildRfmSummaries(late, march2)[0].frequency).toBe(0);
    // at UTC+2 the second order falls on 2 March local time
    const [x] = buildRfmSummaries(late, march2, { utcOffsetMinutes: 120 });
    expect(x.frequency).toBe(1);
    expect(x.recency).toBe(1);
    expect(x.T).toBe(1);
  });

  it('does not depend on the order of the input', () => {
    const shuffled = [...orders].reverse();
    expect(buildRfmSummaries(shuffled, end).find((s) => s.customerId === 'a')).toEqual(
      buildRfmSummaries(orders, end)[0],
    );
  });

  it('rejects invalid dates and amounts', () => {
    expect(() =>
      buildRfmSummaries([{ customerId: 'a', at: new Date('nope'), amount: 1 }], end),
    ).toThrow(RangeError);
    expect(() =>
      buildRfmSummaries([{ customerId: 'a', at: end, amount: Number.NaN }], end),
    ).toThrow(RangeError);
    expect(() => buildRfmSummaries([], end, { periodDays: 0 })).toThrow(RangeError);
  });
});
