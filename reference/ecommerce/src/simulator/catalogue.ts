/**
 * The simulated shop's catalogue: 200 products in 8 categories with log-normal prices around a
 * per-category median, and a skewed popularity so a few products get most of the views, as in a
 * real shop. Also owns drawing a product for a shopper to look at.
 */
import type { SimProduct } from './population.js';
import { type Random, logNormal, shuffled, WeightedTable } from './random.js';

interface CategorySpec {
  name: string;
  code: string;
  products: number;
  medianPrice: number;
  /** Standard deviation of the logarithm of the price. */
  priceSpread: number;
  nouns: readonly string[];
}

const CATEGORIES: readonly CategorySpec[] = [
  {
    name: 'Electronics',
    code: 'ELE',
    products: 30,
    medianPrice: 90,
    priceSpread: 0.8,
    nouns: ['Headphones', 'Speaker', 'Charger', 'Smartwatch', 'Keyboard', 'Mouse', 'Webcam'],
  },
  {
    name: 'Apparel',
    code: 'APP',
    products: 40,
    medianPrice: 40,
    priceSpread: 0.55,
    nouns: ['T-Shirt', 'Hoodie', 'Jacket', 'Jeans', 'Sweater', 'Dress', 'Scarf', 'Sneakers'],
  },
  {
    name: 'Home & Kitchen',
    code: 'HOM',
    products: 30,
    medianPrice: 35,
    priceSpread: 0.7,
    nouns: ['Mug Set', 'Frying Pan', 'Chef Knife', 'Throw Blanket', 'Table Lamp', 'Kettle'],
  },
  {
    name: 'Beauty',
    code: 'BEA',
    products: 22,
    medianPrice: 18,
    priceSpread: 0.5,
    nouns: ['Face Cream', 'Shampoo', 'Lip Balm', 'Perfume', 'Serum', 'Body Lotion', 'Sunscreen'],
  },
  {
    name: 'Books',
    code: 'BOO',
    products: 24,
    medianPrice: 16,
    priceSpread: 0.4,
    nouns: ['Novel', 'Cookbook', 'Travel Guide', 'Notebook', 'Biography', 'Atlas', 'Comic'],
  },
  {
    name: 'Sports & Outdoors',
    code: 'SPO',
    products: 22,
    medianPrice: 45,
    priceSpread: 0.75,
    nouns: ['Yoga Mat', 'Water Bottle', 'Backpack', 'Running Shoes', 'Tent', 'Bike Light'],
  },
  {
    name: 'Toys & Games',
    code: 'TOY',
    products: 18,
    medianPrice: 25,
    priceSpread: 0.6,
    nouns: ['Board Game', 'Puzzle', 'Building Set', 'Plush Bear', 'Card Game', 'Kite'],
  },
  {
    name: 'Grocery',
    code: 'GRO',
    products: 14,
    medianPrice: 9,
    priceSpread: 0.45,
    nouns: ['Coffee Beans', 'Green Tea', 'Olive Oil', 'Dark Chocolate', 'Honey', 'Granola'],
  },
];

const ADJECTIVES = [
  'Classic',
  'Everyday',
  'Premium',
  'Compact',
  'Organic',
  'Vintage',
  'Urban',
  'Nordic',
  'Essential',
  'Deluxe',
  'Eco',
  'Pro',
  'Signature',
  'Lightweight',
  'Artisan',
  'Travel',
];

const MIN_PRICE_CENTS = 499;
const MAX_PRICE_CENTS = 49_999;

export interface Catalogue {
  products: SimProduct[];
  /** A product for anyone to look at, favouring the popular ones. */
  anyProduct(rng: Random): SimProduct;
  /** A product from one category, favouring the popular ones. */
  productIn(rng: Random, category: string): SimProduct;
  /** A category drawn in proportion to its share of the catalogue. */
  category(rng: Random): string;
}

export function buildCatalogue(rng: Random): Catalogue {
  const products = CATEGORIES.flatMap((spec) => categoryProducts(rng, spec)).map(
    (draft, index): SimProduct => {
      const serial = String(index + 1).padStart(4, '0');
      return { id: `prod_${serial}`, sku: `${draft.code}-${serial}`, ...draft.product };
    },
  );
  // Zipf-like popularity over a random ranking, so best sellers are spread across categories.
  const popularity = new Map<SimProduct, number>();
  shuffled(rng, products).forEach((product, rank) =>
    popularity.set(product, 1 / (rank + 1) ** 0.9),
  );
  const table = (items: SimProduct[]) =>
    new WeightedTable(
      items,
      items.map((product) => popularity.get(product) ?? 0),
    );
  const everything = table(products);
  const byCategory = new Map(
    CATEGORIES.map((spec) => [spec.name, table(products.filter((p) => p.category === spec.name))]),
  );
  const categories = new WeightedTable(
    CATEGORIES.map((spec) => spec.name),
    CATEGORIES.map((spec) => spec.products),
  );
  return {
    products,
    anyProduct: (r) => everything.sample(r),
    productIn: (r, category) => (byCategory.get(category) ?? everything).sample(r),
    category: (r) => categories.sample(r),
  };
}

function categoryProducts(
  rng: Random,
  spec: CategorySpec,
): { code: string; product: Omit<SimProduct, 'id' | 'sku'> }[] {
  // Drawing names from a shuffled list of every combination keeps them unique without retries.
  const names = shuffled(
    rng,
    ADJECTIVES.flatMap((adjective) => spec.nouns.map((noun) => `${adjective} ${noun}`)),
  ).slice(0, spec.products);
  return names.map((name) => ({
    code: spec.code,
    product: {
      name,
      category: spec.name,
      price: shelfPrice(logNormal(rng, spec.medianPrice, spec.priceSpread)),
    },
  }));
}

/** Rounds to a x.99 price within the shop's range. */
function shelfPrice(raw: number): number {
  const cents = Math.round(raw) * 100 - 1;
  return Math.min(MAX_PRICE_CENTS, Math.max(MIN_PRICE_CENTS, cents)) / 100;
}
