import { createHash } from 'node:crypto';
import { Names, Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * A physical name for resources that must be known before they exist (the timer function's ARN is
 * needed in its own environment; EventBridge bus names are mandatory). It is derived from the stack
 * name and the construct path, so two copies of the stack in one account never collide, and it is
 * stable across deployments of the same stack.
 */
export function uniquePhysicalName(scope: IConstruct, suffix: string, maxLength = 64): string {
  const stack = Stack.of(scope);
  // A token stack name (rare: set by a pipeline parameter) cannot be hashed at synth time; the
  // construct path is unique within the app, which is what CDK itself relies on.
  if (Token.isUnresolved(stack.stackName)) return Names.uniqueResourceName(scope, { maxLength, separator: '-' });
  const hash = createHash('sha256').update(`${stack.stackName}\0${scope.node.path}`).digest('hex').slice(0, 8);
  const tail = `-${suffix}-${hash}`;
  const head = stack.stackName.replace(/[^A-Za-z0-9-]/g, '').slice(0, Math.max(1, maxLength - tail.length));
  return `${head}${tail}`;
}
