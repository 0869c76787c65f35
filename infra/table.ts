import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { GSI, TABLE_PARTITION_KEY, TABLE_SORT_KEY, TTL_ATTRIBUTE, type GsiDef } from '../shared/adapters/tableSchema.js';

export { TTL_ATTRIBUTE };

/**
 * The single table of `shared/adapters/tableSchema.ts`: on demand, point-in-time recovery,
 * deletion protection, retained when the stack is deleted, TTL on `ttl`, and a `NEW_IMAGE` stream
 * that feeds the outbox sweeper.
 */
export class KeyTable extends Construct {
  public readonly table: dynamodb.Table;
  /** ARNs of the table and of each of its indexes, for precise IAM statements. */
  public readonly arns: readonly string[];

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_SORT_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      // Keys and audit trails outlive the stack: deleting the stack must never delete customers' keys.
      removalPolicy: RemovalPolicy.RETAIN,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      stream: dynamodb.StreamViewType.NEW_IMAGE,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
    });
    // Every index of tableSchema.ts, keys only (see there: no index is written by a transition or a
    // last-use write; only when an item enters, moves in or leaves an index).
    for (const g of Object.values(GSI) as GsiDef[]) {
      this.table.addGlobalSecondaryIndex({
        indexName: g.name,
        partitionKey: { name: g.partitionKey, type: g.partitionType === 'N' ? dynamodb.AttributeType.NUMBER : dynamodb.AttributeType.STRING },
        sortKey: { name: g.sortKey, type: g.sortType === 'N' ? dynamodb.AttributeType.NUMBER : dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType[g.projection],
      });
    }
    this.arns = [
      this.table.tableArn,
      ...Object.values(GSI).map((g) => `${this.table.tableArn}/index/${g.name}`),
    ];
  }
}
