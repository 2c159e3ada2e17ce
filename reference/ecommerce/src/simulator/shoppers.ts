/**
 * The simulated shop's customers: who they are (names, unique emails on reserved `.example`-style
 * domains so nothing can ever be mailed, a country and a matching IANA timezone), when they signed
 * up, and the hidden profile that drives their behaviour. Visit rates are Pareto-distributed and a
 * third of shoppers never buy, so a few customers account for most orders, as in a real shop.
 */
import { activityFactor, DAY_MS, shoppingTimeOnDay } from './calendar.js';
import type { Catalogue } from './catalogue.js';
import type { SimCustomer } from './population.js';
import {
  chance,
  intBetween,
  logNormal,
  pareto,
  pick,
  type Random,
  WeightedTable,
} from './random.js';

/** How far before the simulated period the earliest customers signed up. */
export const SIGNUP_LOOKBACK_DAYS = 180;

const EXISTING_CUSTOMER_SHARE = 0.6;
const WINDOW_SHOPPER_SHARE = 0.35;
const MIN_SESSIONS_PER_DAY = 0.035;
const VISIT_RATE_ALPHA = 1.5;
const MAX_SESSIONS_PER_DAY = 2;

export type Plan = 'free' | 'plus';

/** What drives a customer's behaviour; never leaves the simulator. */
export interface ShopperProfile {
  /** Mean sessions on an average day once signed up. */
  sessionsPerDay: number;
  /** Scales every step of the purchase funnel; 0 for window shoppers, who never buy. */
  propensity: number;
  favouriteCategory: string;
  newsletter: boolean;
  plan: Plan;
}

export interface Shoppers {
  customers: SimCustomer[];
  profiles: ShopperProfile[];
}

type Language = 'de' | 'en' | 'es' | 'fr' | 'it' | 'nl' | 'pl';

interface Country {
  code: string;
  weight: number;
  languages: readonly Language[];
  timezones: WeightedTable<string>;
}

const zones = (entries: [string, number][]) =>
  new WeightedTable(
    entries.map(([zone]) => zone),
    entries.map(([, weight]) => weight),
  );

const COUNTRY_LIST: readonly Country[] = [
  { code: 'DE', weight: 24, languages: ['de'], timezones: zones([['Europe/Berlin', 1]]) },
  { code: 'FR', weight: 14, languages: ['fr'], timezones: zones([['Europe/Paris', 1]]) },
  { code: 'GB', weight: 13, languages: ['en'], timezones: zones([['Europe/London', 1]]) },
  {
    code: 'US',
    weight: 10,
    languages: ['en', 'en', 'es'],
    timezones: zones([
      ['America/New_York', 45],
      ['America/Chicago', 30],
      ['America/Denver', 7],
      ['America/Los_Angeles', 18],
    ]),
  },
  { code: 'NL', weight: 8, languages: ['nl'], timezones: zones([['Europe/Amsterdam', 1]]) },
  { code: 'ES', weight: 8, languages: ['es'], timezones: zones([['Europe/Madrid', 1]]) },
  { code: 'IT', weight: 8, languages: ['it'], timezones: zones([['Europe/Rome', 1]]) },
  { code: 'PL', weight: 6, languages: ['pl'], timezones: zones([['Europe/Warsaw', 1]]) },
  { code: 'AT', weight: 4, languages: ['de'], timezones: zones([['Europe/Vienna', 1]]) },
  { code: 'BE', weight: 3, languages: ['nl', 'fr'], timezones: zones([['Europe/Brussels', 1]]) },
  { code: 'IE', weight: 2, languages: ['en'], timezones: zones([['Europe/Dublin', 1]]) },
];
const COUNTRIES = new WeightedTable(
  COUNTRY_LIST,
  COUNTRY_LIST.map((country) => country.weight),
);

const FIRST_NAMES: Readonly<Record<Language, readonly string[]>> = {
  de: ['Anna', 'Lukas', 'Lena', 'Leon', 'Hannah', 'Felix', 'Marie', 'Jonas', 'Sophie', 'Paul'],
  en: ['Olivia', 'Oliver', 'Amelia', 'George', 'Isla', 'Harry', 'Emily', 'Jack', 'Grace', 'Noah'],
  es: ['Lucía', 'Hugo', 'Sofía', 'Martín', 'María', 'Pablo', 'Paula', 'Daniel', 'Carmen', 'Elena'],
  fr: ['Camille', 'Louis', 'Léa', 'Hugo', 'Chloé', 'Lucas', 'Manon', 'Gabriel', 'Inès', 'Jules'],
  it: ['Giulia', 'Leonardo', 'Sofia', 'Francesco', 'Aurora', 'Matteo', 'Chiara', 'Lorenzo'],
  nl: ['Emma', 'Daan', 'Julia', 'Sem', 'Tess', 'Lucas', 'Sophie', 'Finn', 'Mila', 'Bram'],
  pl: ['Zuzanna', 'Jakub', 'Julia', 'Antoni', 'Maja', 'Jan', 'Zofia', 'Szymon', 'Łukasz'],
};

// Gender-neutral surnames only, so Polish -ski/-ska agreement never comes up.
const LAST_NAMES: Readonly<Record<Language, readonly string[]>> = {
  de: ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Koch'],
  en: ['Smith', 'Jones', 'Williams', 'Taylor', 'Brown', 'Davies', 'Evans', 'Wilson', 'Clarke'],
  es: ['García', 'Fernández', 'González', 'López', 'Martínez', 'Sánchez', 'Pérez', 'Ruiz'],
  fr: ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Petit', 'Durand', 'Moreau', 'Girard'],
  it: ['Rossi', 'Russo', 'Ferrari', 'Esposito', 'Bianchi', 'Romano', 'Colombo', 'Ricci', 'Greco'],
  nl: ['de Jong', 'Jansen', 'de Vries', 'van den Berg', 'Bakker', 'Visser', 'Smit', 'Meijer'],
  pl: ['Nowak', 'Wójcik', 'Kowalczyk', 'Mazur', 'Krawczyk', 'Kaczmarek', 'Zając', 'Król'],
};

const EMAIL_DOMAINS = new WeightedTable(
  ['mail.example', 'inbox.example', 'post.example', 'example.com', 'example.net', 'example.org'],
  [30, 20, 10, 20, 12, 8],
);

interface Draft {
  createdAtMs: number;
  customer: Omit<SimCustomer, 'id' | 'email' | 'createdAt'>;
  emailLocalPart: string;
  emailDomain: string;
  profile: ShopperProfile;
}

export function buildShoppers(
  rng: Random,
  count: number,
  period: { startMs: number; days: number },
  catalogue: Catalogue,
): Shoppers {
  const signupDays = periodSignupDays(period.startMs, period.days);
  const drafts: Draft[] = [];
  for (let i = 0; i < count; i++) drafts.push(draftShopper(rng, period, signupDays, catalogue));
  // Ids follow signup order, as an auto-incrementing key would.
  drafts.sort((a, b) => a.createdAtMs - b.createdAtMs);
  const taken = new Set<string>();
  return {
    customers: drafts.map((draft, index) => ({
      id: `cust_${String(index + 1).padStart(6, '0')}`,
      email: uniqueEmail(draft, taken),
      ...draft.customer,
      createdAt: new Date(draft.createdAtMs),
    })),
    profiles: drafts.map((draft) => draft.profile),
  };
}

function draftShopper(
  rng: Random,
  period: { startMs: number; days: number },
  signupDays: WeightedTable<number>,
  catalogue: Catalogue,
): Draft {
  const country = COUNTRIES.sample(rng);
  const timezone = country.timezones.sample(rng);
  const language = pick(rng, country.languages);
  const firstName = pick(rng, FIRST_NAMES[language]);
  const lastName = pick(rng, LAST_NAMES[language]);
  const day = chance(rng, EXISTING_CUSTOMER_SHARE) ? dayBeforePeriod(rng) : signupDays.sample(rng);
  return {
    createdAtMs: shoppingTimeOnDay(rng, period.startMs + day * DAY_MS, timezone),
    customer: { firstName, lastName, country: country.code, timezone },
    emailLocalPart: emailLocalPart(rng, firstName, lastName),
    emailDomain: EMAIL_DOMAINS.sample(rng),
    profile: shopperProfile(rng, catalogue),
  };
}

/** New signups during the period follow the same weekly and seasonal rhythm as shopping. */
function periodSignupDays(startMs: number, days: number): WeightedTable<number> {
  const indices = Array.from({ length: days }, (_, day) => day);
  return new WeightedTable(
    indices,
    indices.map((day) => activityFactor(startMs + day * DAY_MS, day, days)),
  );
}

/** A day index before the period; the shop has been growing, so recent days are likelier. */
function dayBeforePeriod(rng: Random): number {
  const daysBefore = Math.floor(SIGNUP_LOOKBACK_DAYS * (1 - Math.sqrt(rng())));
  return -1 - Math.min(SIGNUP_LOOKBACK_DAYS - 1, daysBefore);
}

function shopperProfile(rng: Random, catalogue: Catalogue): ShopperProfile {
  const sessionsPerDay = Math.min(
    MAX_SESSIONS_PER_DAY,
    pareto(rng, MIN_SESSIONS_PER_DAY, VISIT_RATE_ALPHA),
  );
  const buyer = !chance(rng, WINDOW_SHOPPER_SHARE);
  // Frequent visitors also convert better when they visit: loyal customers do both.
  const loyalty = (sessionsPerDay / MIN_SESSIONS_PER_DAY) ** 0.4;
  return {
    sessionsPerDay,
    propensity: buyer ? logNormal(rng, 1, 0.7) * loyalty : 0,
    favouriteCategory: catalogue.category(rng),
    newsletter: chance(rng, 0.4),
    plan: chance(rng, 0.1) ? 'plus' : 'free',
  };
}

function emailLocalPart(rng: Random, firstName: string, lastName: string): string {
  const first = slug(firstName);
  const last = slug(lastName);
  const style = rng();
  if (style < 0.45) return `${first}.${last}`;
  if (style < 0.6) return `${first}${last}`;
  if (style < 0.75) return `${first[0]}${last}`;
  if (style < 0.9) return `${first}.${last}${intBetween(rng, 60, 99)}`;
  return `${first}_${last}${intBetween(rng, 1, 999)}`;
}

function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/ł/g, 'l')
    .replace(/ß/g, 'ss')
    .normalize('NFD')
    .replace(/[^a-z0-9]/g, '');
}

function uniqueEmail(draft: Draft, taken: Set<string>): string {
  let email = `${draft.emailLocalPart}@${draft.emailDomain}`;
  for (let n = 2; taken.has(email); n++) {
    email = `${draft.emailLocalPart}${n}@${draft.emailDomain}`;
  }
  taken.add(email);
  return email;
}
