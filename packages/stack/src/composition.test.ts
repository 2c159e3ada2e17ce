/** The committed schema/*.graphql files are what `npm run compose` produces now. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { composeAll } from './compose.js';

const schemaDir = fileURLToPath(new URL('../../../schema/', import.meta.url));

describe('composition', () => {
  it('composes the five subgraphs without errors and matches the committed files', async () => {
    const { subgraphs, supergraph } = await composeAll();
    expect(Object.keys(subgraphs).sort()).toEqual([
      'analytics',
      'campaigns',
      'ecommerce',
      'email',
      'segments',
    ]);
    for (const [name, sdl] of Object.entries(subgraphs)) {
      expect({
        file: `schema/${name}.graphql`,
        sdl: readFileSync(`${schemaDir}${name}.graphql`, 'utf8'),
      }).toEqual({
        file: `schema/${name}.graphql`,
        sdl,
      });
    }
    // A mismatch means the schema changed without `npm run compose`.
    expect(readFileSync(`${schemaDir}supergraph.graphql`, 'utf8')).toEqual(supergraph);
  });
});
