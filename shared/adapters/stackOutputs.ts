/** Reads a deployed stack's outputs (the operator CLI's `--stack`), with the default credentials chain. */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';

/** `OutputKey → OutputValue` of one stack. Throws when the stack does not exist or cannot be read. */
export async function describeStackOutputs(stackName: string, region?: string, client?: CloudFormationClient): Promise<Record<string, string>> {
  const cf = client ?? new CloudFormationClient(region ? { region } : {});
  try {
    const res = await cf.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = res.Stacks?.[0];
    if (!stack) throw new Error(`stack ${stackName} not found`);
    const out: Record<string, string> = {};
    for (const o of stack.Outputs ?? []) {
      if (o.OutputKey && o.OutputValue !== undefined) out[o.OutputKey] = o.OutputValue;
    }
    return out;
  } finally {
    if (!client) cf.destroy();
  }
}
