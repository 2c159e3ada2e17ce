/** `npm run compose`: writes schema/<subgraph>.graphql and schema/supergraph.graphql. */
import 'reflect-metadata';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { composeAll } from './compose.js';

const schemaDir = fileURLToPath(new URL('../../../schema/', import.meta.url));
const { subgraphs, supergraph } = await composeAll();
for (const [name, sdl] of Object.entries(subgraphs)) {
  await writeFile(`${schemaDir}${name}.graphql`, sdl);
  console.log(`schema/${name}.graphql`);
}
await writeFile(`${schemaDir}supergraph.graphql`, supergraph);
console.log('schema/supergraph.graphql: composed without errors');
