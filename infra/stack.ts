import { Aws, CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ApiKeyService, type ApiKeyServiceProps } from './api-key-service.js';

export interface RekeyStackProps extends StackProps {
  /** Settings of the service. */
  readonly service: ApiKeyServiceProps;
}

/**
 * The standalone rekey stack: one {@link ApiKeyService}, with its outputs under plain names
 * (`ApiUrl`, `DashboardUrl`, `TableName`, `PepperSecretArn`, …, and `StackName`).
 */
export class RekeyStack extends Stack {
  public readonly service: ApiKeyService;

  constructor(scope: Construct, id: string, props: RekeyStackProps) {
    super(scope, id, props);
    this.service = new ApiKeyService(this, 'Rekey', props.service);
    for (const [key, output] of Object.entries(this.service.outputs)) output.overrideLogicalId(key);
    new CfnOutput(this, 'AdminCommand', {
      description: 'Creates the first account and its key against this stack (needs AWS credentials)',
      value: Fn.join('', ['npm run admin -- create-account --stack ', this.stackName, ' --region ', Aws.REGION, ' --name NAME --alert-email EMAIL']),
    });
  }
}
