/**
 * Contract conformance: does the composed API schema offer everything the public contract
 * (`../shared/contract/marketing.graphql`) promises, with types a client written against the
 * contract can use? Output fields may be stricter (non-null where the contract allows null);
 * arguments and input fields may be looser; nothing required may be added to inputs or arguments.
 */
import {
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLSchema,
  type GraphQLType,
} from 'graphql';

export interface ContractProblem {
  /** `Type`, `Type.field` or `Type.field(arg)`. */
  coordinate: string;
  problem: string;
}

/** Output position: ours may be non-null where the contract is nullable; lists must match. */
function outputCompatible(ours: GraphQLType, contract: GraphQLType): boolean {
  if (isNonNullType(contract))
    return isNonNullType(ours) && outputCompatible(ours.ofType, contract.ofType);
  if (isNonNullType(ours)) return outputCompatible(ours.ofType, contract);
  if (isListType(contract))
    return isListType(ours) && outputCompatible(ours.ofType, contract.ofType);
  return !isListType(ours) && getNamedType(ours).name === getNamedType(contract).name;
}

/** Input position: ours may accept null where the contract requires a value; not the reverse. */
function inputCompatible(ours: GraphQLType, contract: GraphQLType): boolean {
  if (isNonNullType(ours))
    return isNonNullType(contract) && inputCompatible(ours.ofType, contract.ofType);
  if (isNonNullType(contract)) return inputCompatible(ours, contract.ofType);
  if (isListType(contract))
    return isListType(ours) && inputCompatible(ours.ofType, contract.ofType);
  return !isListType(ours) && getNamedType(ours).name === getNamedType(contract).name;
}

function isRequired(input: GraphQLArgument | GraphQLInputField): boolean {
  return isNonNullType(input.type) && input.defaultValue === undefined;
}

function checkInputs(
  coordinate: string,
  ours: readonly (GraphQLArgument | GraphQLInputField)[],
  contract: readonly (GraphQLArgument | GraphQLInputField)[],
  problems: ContractProblem[],
): void {
  const contractNames = new Set(contract.map((c) => c.name));
  for (const expected of contract) {
    const actual = ours.find((o) => o.name === expected.name);
    const at = `${coordinate}(${expected.name})`;
    if (!actual) problems.push({ coordinate: at, problem: 'missing' });
    else if (!inputCompatible(actual.type, expected.type)) {
      problems.push({
        coordinate: at,
        problem: `type ${String(actual.type)} does not accept ${String(expected.type)}`,
      });
    }
  }
  for (const extra of ours) {
    if (!contractNames.has(extra.name) && isRequired(extra)) {
      problems.push({
        coordinate: `${coordinate}(${extra.name})`,
        problem: 'required here but not in the contract',
      });
    }
  }
}

function checkField(
  coordinate: string,
  ours: GraphQLField<unknown, unknown>,
  contract: GraphQLField<unknown, unknown>,
  problems: ContractProblem[],
): void {
  if (!outputCompatible(ours.type, contract.type)) {
    problems.push({
      coordinate,
      problem: `type ${String(ours.type)} is not compatible with ${String(contract.type)}`,
    });
  }
  checkInputs(coordinate, ours.args, contract.args, problems);
}

export function checkContract(api: GraphQLSchema, contractSdl: string): ContractProblem[] {
  const contract = buildSchema(contractSdl);
  const problems: ContractProblem[] = [];
  for (const expected of Object.values(contract.getTypeMap())) {
    if (expected.name.startsWith('__')) continue;
    const actual = api.getType(expected.name);
    if (!actual) {
      problems.push({ coordinate: expected.name, problem: 'type missing' });
      continue;
    }
    if (actual.constructor !== expected.constructor) {
      problems.push({
        coordinate: expected.name,
        problem: `is a ${actual.constructor.name}, expected ${expected.constructor.name}`,
      });
      continue;
    }
    if (isObjectType(expected) || isInterfaceType(expected)) {
      const fields = (actual as typeof expected).getFields();
      for (const field of Object.values(expected.getFields())) {
        const coordinate = `${expected.name}.${field.name}`;
        if (!fields[field.name]) problems.push({ coordinate, problem: 'field missing' });
        else checkField(coordinate, fields[field.name], field, problems);
      }
    } else if (isInputObjectType(expected) && isInputObjectType(actual)) {
      checkInputs(
        expected.name,
        Object.values(actual.getFields()),
        Object.values(expected.getFields()),
        problems,
      );
    } else if (isEnumType(expected) && isEnumType(actual)) {
      const values = new Set(actual.getValues().map((v) => v.name));
      for (const v of expected.getValues()) {
        if (!values.has(v.name))
          problems.push({
            coordinate: `${expected.name}.${v.name}`,
            problem: 'enum value missing',
          });
      }
    } else if (isUnionType(expected) && isUnionType(actual)) {
      const members = new Set(actual.getTypes().map((t) => t.name));
      for (const t of expected.getTypes()) {
        if (!members.has(t.name))
          problems.push({
            coordinate: `${expected.name}|${t.name}`,
            problem: 'union member missing',
          });
      }
    }
  }
  return problems;
}
