// Reads a packaged CloudFormation template as CloudFormation would deploy it: conditions decided, Fn::If resolved.

import { readFileSync } from 'node:fs';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Resource {
  Type: string;
  Condition?: string;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  DependsOn?: string | string[];
  Properties: JsonObject;
}

export interface Template {
  Conditions?: Record<string, Json>;
  Resources: Record<string, Resource>;
  Outputs?: Record<string, JsonObject>;
}

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: Json;
  Condition?: JsonObject;
}

export function readTemplate(path: string): Template {
  return JSON.parse(readFileSync(path, 'utf8')) as Template;
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Decides a condition whose operands serverless has already resolved to literals. */
export function evaluateCondition(template: Template, name: string): boolean {
  const definition = template.Conditions?.[name];
  if (definition === undefined) throw new Error(`no condition ${name}`);
  return evaluate(template, definition);
}

function evaluate(template: Template, expression: Json): boolean {
  if (!isObject(expression)) throw new Error(`not a condition: ${JSON.stringify(expression)}`);
  const [[operator, operands] = []] = Object.entries(expression);
  if (operator === 'Condition' && typeof operands === 'string') return evaluateCondition(template, operands);
  if (!Array.isArray(operands)) throw new Error(`not a condition: ${JSON.stringify(expression)}`);
  switch (operator) {
    case 'Fn::Equals': {
      const [left, right] = operands;
      if (typeof left !== 'string' || typeof right !== 'string') {
        throw new Error(`Fn::Equals on values known only at deploy time: ${JSON.stringify(operands)}`);
      }
      return left === right;
    }
    case 'Fn::Not':
      return !evaluate(template, operands[0] ?? null);
    case 'Fn::And':
      return operands.every((operand) => evaluate(template, operand));
    case 'Fn::Or':
      return operands.some((operand) => evaluate(template, operand));
    default:
      throw new Error(`unsupported condition function ${operator}`);
  }
}

const NO_VALUE = Symbol('AWS::NoValue');

function resolveValue(template: Template, value: Json): Json | typeof NO_VALUE {
  if (Array.isArray(value)) {
    return value
      .map((item) => resolveValue(template, item))
      .filter((item): item is Json => item !== NO_VALUE);
  }
  if (!isObject(value)) return value;
  if (value.Ref === 'AWS::NoValue') return NO_VALUE;
  const branches = value['Fn::If'];
  if (Array.isArray(branches) && Object.keys(value).length === 1) {
    const [condition, whenTrue, whenFalse] = branches;
    if (typeof condition !== 'string') throw new Error(`Fn::If without a condition name`);
    return resolveValue(template, (evaluateCondition(template, condition) ? whenTrue : whenFalse) ?? null);
  }
  const resolved: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    const next = resolveValue(template, item);
    if (next !== NO_VALUE) resolved[key] = next;
  }
  return resolved;
}

/** Replaces every Fn::If by its chosen branch and drops AWS::NoValue, as CloudFormation does. */
export function resolveConditionals<T extends Json>(template: Template, value: T): T {
  const resolved = resolveValue(template, value);
  if (resolved === NO_VALUE) throw new Error('the whole value is AWS::NoValue');
  return resolved as T;
}

/** The resources CloudFormation would create, with their conditional values resolved. */
export function deployedResources(template: Template): Record<string, Resource> {
  const deployed: Record<string, Resource> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Condition !== undefined && !evaluateCondition(template, resource.Condition)) continue;
    deployed[id] = { ...resource, Properties: resolveConditionals(template, resource.Properties ?? {}) };
  }
  return deployed;
}

export function ofType(resources: Record<string, Resource>, type: string): [string, Resource][] {
  return Object.entries(resources).filter(([, resource]) => resource.Type === type);
}

/** Every statement of a role's inline policies. */
export function roleStatements(role: Resource): PolicyStatement[] {
  const policies = (role.Properties.Policies ?? []) as unknown as {
    PolicyDocument: { Statement: PolicyStatement[] };
  }[];
  return policies.flatMap((policy) => policy.PolicyDocument.Statement);
}

export function asList<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

/** Every policy statement of every resource: role policies, trust policies, key policies, resource policies. */
export function allStatements(
  resources: Record<string, Resource>,
): { id: string; statement: PolicyStatement }[] {
  const found: { id: string; statement: PolicyStatement }[] = [];
  const visit = (id: string, value: Json | undefined) => {
    if (Array.isArray(value)) {
      for (const item of value) visit(id, item);
      return;
    }
    if (!isObject(value)) return;
    const statements = value.Statement;
    if (statements !== undefined && typeof value.Version === 'string') {
      for (const statement of asList(statements))
        found.push({ id, statement: statement as unknown as PolicyStatement });
      return;
    }
    for (const item of Object.values(value)) visit(id, item);
  };
  for (const [id, resource] of Object.entries(resources)) visit(id, resource.Properties);
  return found;
}

/**
 * The string an Fn::Sub makes, with `${Name}` placeholders filled by `lookup(Name)` unless the Fn::Sub's own
 * variable map gives them a literal value; `${!Literal}` stays as `${Literal}`, as CloudFormation leaves it.
 */
export function substitute(value: Json | undefined, lookup: (name: string) => string): string {
  const sub = isObject(value) ? value['Fn::Sub'] : undefined;
  if (sub === undefined) throw new Error(`not an Fn::Sub: ${JSON.stringify(value)}`);
  const [template, variables = {}] = Array.isArray(sub) ? sub : [sub];
  if (typeof template !== 'string' || !isObject(variables))
    throw new Error(`malformed Fn::Sub ${JSON.stringify(sub)}`);
  return template.replace(/\$\{(!?)([^}]+)\}/g, (_, literal: string, name: string) => {
    if (literal) return `\${${name}}`;
    const given = variables[name];
    return typeof given === 'string' ? given : lookup(name);
  });
}
