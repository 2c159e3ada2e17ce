/**
 * `npm run simulate -- --customers 10000 --days 90 --seed 1`: a deterministic, realistic shopper
 * population written into the e-commerce graph and, through its outbox, the event stream.
 * DATABASE_URL defaults to the database `npm start` runs on.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { migrate, openDatabase } from '@marketing/platform';
import pg from 'pg';
import { ecommerceSubgraph } from './service.js';
import { generatePopulation } from './simulator/population.js';
import { writeCatalogue, writeEvents } from './simulator/simulator.writer.js';

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '10000' },
    days: { type: 'string', default: '90' },
    seed: { type: 'string', default: '1' },
  },
});
const options = {
  customers: Number(values.customers),
  days: Number(values.days),
  seed: Number(values.seed),
};
for (const [name, value] of Object.entries(options)) {
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} must be a positive integer`);
    process.exit(2);
  }
}
const url = process.env.DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:54320/marketing';

const orm = await openDatabase({ ...ecommerceSubgraph.database, url });
await migrate(orm, url, 'ecommerce');
await orm.close();

const population = generatePopulation(options);
let total = 0;
for (const _ of population.events()) total += 1;
const pool = new pg.Pool({ connectionString: url, max: 2 });
const started = Date.now();
await writeCatalogue(pool, population);
const bar = (written: number) => {
  const share = written / total;
  const width = 30;
  const rate = Math.round(written / Math.max(0.001, (Date.now() - started) / 1000));
  const line = `[${'#'.repeat(Math.round(share * width)).padEnd(width, '.')}] ${(share * 100).toFixed(0).padStart(3)}%  ${written.toLocaleString('en')}/${total.toLocaleString('en')} events  ${rate.toLocaleString('en')}/s`;
  process.stderr.write(process.stderr.isTTY ? `\r${line}` : `${line}\n`);
};
const written = await writeEvents(pool, population, bar);
await pool.end();
process.stderr.write('\n');
console.log(
  `simulated ${options.customers.toLocaleString('en')} customers over ${options.days} days (seed ${options.seed}): ` +
    `${population.products.length} products, ${written.toLocaleString('en')} events written to the e-commerce graph and its outbox in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
