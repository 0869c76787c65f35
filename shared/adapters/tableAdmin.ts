/**
 * Table provisioning for local mode (and tests): the CDK owns the table in AWS, so this is only
 * ever pointed at dynalite.
 */
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceInUseException, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { DUMMY_LOCAL_CREDENTIALS, type LocalStoreCredentials } from './dynamoStore.js';
import { createTableInput } from './tableSchema.js';

/** A client for a local DynamoDB-compatible endpoint: local mode's store key, or dummy credentials (never real ones). */
export function localDynamoClient(endpoint: string, local: LocalStoreCredentials = DUMMY_LOCAL_CREDENTIALS): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: local.region,
    credentials: { accessKeyId: local.accessKeyId, secretAccessKey: local.secretAccessKey },
    maxAttempts: 2,
  });
}

/**
 * Creates the rekey table at `endpoint` unless it exists, and waits until it is ACTIVE.
 * Returns `true` when it created the table.
 */
export async function ensureTable(endpoint: string, tableName: string, local?: LocalStoreCredentials): Promise<boolean> {
  const client = localDynamoClient(endpoint, local);
  try {
    let created = false;
    try {
      await client.send(new DescribeTableCommand({ TableName: tableName }));
    } catch (e) {
      if (!(e instanceof ResourceNotFoundException)) throw e;
      try {
        await client.send(new CreateTableCommand(createTableInput(tableName)));
        created = true;
      } catch (err) {
        // Another process created it between our describe and create: fine.
        if (!(err instanceof ResourceInUseException)) throw err;
      }
    }
    for (let i = 0; i < 100; i++) {
      const d = await client.send(new DescribeTableCommand({ TableName: tableName }));
      if (d.Table?.TableStatus === 'ACTIVE') return created;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`table ${tableName} did not become ACTIVE`);
  } finally {
    client.destroy();
  }
}
