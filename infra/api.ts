import { Aws, Duration, Fn, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ADMIN_PREFIX, type RouteDef } from '../shared/http/routes.js';
import { uniquePhysicalName } from './names.js';

/** Stage throttling of the management API. */
export interface ApiThrottle {
  /** Steady-state requests per second. @default 50 */
  readonly rateLimit?: number;
  /** Burst bucket size. @default 100 */
  readonly burstLimit?: number;
}

export interface ManagementApiProps {
  /** Every route with the function that serves it (from `ROUTES`). */
  readonly routes: readonly { readonly route: RouteDef; readonly handler: lambda.IFunction }[];
  /** Serves every unknown path and method: 404 to authenticated callers. */
  readonly notFound: lambda.IFunction;
  /** The rekey authorizer function. */
  readonly authorizerFunction: lambda.IFunction;
  /** @default 'prod' */
  readonly stageName?: string;
  /** @default { rateLimit: 50, burstLimit: 100 } */
  readonly throttle?: ApiThrottle;
  /** The one origin allowed by CORS. @default - no CORS */
  readonly corsAllowedOrigin?: string;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Create the account-level API Gateway CloudWatch role (`AWS::ApiGateway::Account`).
   * @default true
   */
  readonly cloudWatchRole?: boolean;
}

/** Headers browsers may send cross-origin: the two ways to carry the secret, and JSON bodies. */
const CORS_HEADERS = ['Authorization', 'Content-Type', 'x-api-key'];
const CORS_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** Error bodies API Gateway itself answers with, in the shape the handlers use (SPEC §3). */
const GATEWAY_RESPONSES: readonly { type: apigw.ResponseType; status: string; code: string; message: string }[] = [
  { type: apigw.ResponseType.UNAUTHORIZED, status: '401', code: 'unauthorized', message: 'Missing, malformed, unknown, expired or revoked API key.' },
  { type: apigw.ResponseType.ACCESS_DENIED, status: '403', code: 'forbidden', message: 'This key may not perform this request.' },
  // The admin API's IAM (SigV4) answers in SPEC §9's terms: no signature is 401, a bad or stale one
  // 403 (IAM's own defaults are 403 for all three).
  { type: apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, status: '401', code: 'unauthorized', message: 'Admin requests must be signed with AWS Signature Version 4 (service execute-api).' },
  { type: apigw.ResponseType.INVALID_SIGNATURE, status: '403', code: 'forbidden', message: 'The request signature is not valid.' },
  { type: apigw.ResponseType.EXPIRED_TOKEN, status: '403', code: 'forbidden', message: 'The request signature or credentials have expired.' },
  { type: apigw.ResponseType.REQUEST_TOO_LARGE, status: '413', code: 'payload_too_large', message: 'The request body is too large.' },
  { type: apigw.ResponseType.THROTTLED, status: '429', code: 'too_many_requests', message: 'Too many requests; retry later.' },
  { type: apigw.ResponseType.DEFAULT_4XX, status: '', code: 'bad_request', message: 'The request could not be processed.' },
  { type: apigw.ResponseType.DEFAULT_5XX, status: '', code: 'internal_error', message: 'Internal error.' },
];

/**
 * The management REST API (API Gateway v1): one Lambda proxy integration per route of `ROUTES`,
 * the rekey `REQUEST` authorizer on every route except those with scope `none`, an authorized
 * catch-all so unknown routes answer 401 before 404, JSON gateway responses, stage throttling,
 * JSON access logs and X-Ray.
 *
 * Body size: API Gateway cannot refuse bodies below its own 10 MB limit, so the 16 KiB limit of
 * SPEC §3 is enforced by the handlers (413 `payload_too_large`) before parsing.
 */
export class ManagementApi extends Construct {
  public readonly api: apigw.RestApi;
  public readonly authorizer: apigw.RequestAuthorizer;
  public readonly accessLogs: logs.LogGroup;
  public readonly stageName: string;
  /**
   * The API's name: derived from the stack and the construct path, so each copy of rekey in a
   * region has its own, and the `ApiName` dimension of its 5XX metric is its alone.
   */
  public readonly restApiName: string;
  /** Base URL without a trailing slash (`https://…/prod`), built without referencing the stage. */
  public readonly url: string;
  /** `https://<api id>.execute-api.<region>.<suffix>`: the API's origin. */
  public readonly origin: string;

  constructor(scope: Construct, id: string, props: ManagementApiProps) {
    super(scope, id);
    this.stageName = props.stageName ?? 'prod';
    this.restApiName = uniquePhysicalName(this, 'api', 128);
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
    const cors: apigw.CorsOptions | undefined = props.corsAllowedOrigin
      ? { allowOrigins: [props.corsAllowedOrigin], allowHeaders: CORS_HEADERS, allowMethods: CORS_METHODS, maxAge: Duration.minutes(10) }
      : undefined;

    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: this.restApiName,
      description: 'rekey management API',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // API Gateway refuses a stage with access logging ("CloudWatch Logs role ARN must be set in
      // account settings") until the account-level role exists, so a first deploy into a fresh
      // account would roll back. AWS::ApiGateway::Account is a per-region account singleton: the
      // role is retained when the stack is deleted (the setting would otherwise point at a deleted
      // role and break every other API's logging), and a second copy in the region may skip it.
      ...((props.cloudWatchRole ?? true) ? { cloudWatchRole: true, cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN } : { cloudWatchRole: false }),
      defaultCorsPreflightOptions: cors,
      deployOptions: {
        stageName: this.stageName,
        // Public routes (no API key) carry their own, lower limits on top of the stage's (route table).
        methodOptions: Object.fromEntries(
          props.routes
            .filter(({ route }) => route.throttle)
            .map(({ route }) => [`${route.path}/${route.method}`, { throttlingRateLimit: route.throttle!.rateLimit, throttlingBurstLimit: route.throttle!.burstLimit }]),
        ),
        throttlingRateLimit: props.throttle?.rateLimit ?? 50,
        throttlingBurstLimit: props.throttle?.burstLimit ?? 100,
        tracingEnabled: true,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogs),
        // No headers are logged: the secret travels in Authorization or x-api-key.
        accessLogFormat: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            httpMethod: '$context.httpMethod',
            resourcePath: '$context.resourcePath',
            path: '$context.path',
            status: '$context.status',
            responseLength: '$context.responseLength',
            keyId: '$context.authorizer.principalId',
            accountId: '$context.authorizer.accountId',
            authorizerError: '$context.authorizer.error',
            integrationLatency: '$context.integrationLatency',
            latency: '$context.responseLatency',
            errorType: '$context.error.responseType',
          }),
        ),
      },
    });

    // The API's own `Endpoint` output would duplicate the service's `ApiUrl`.
    this.api.node.tryRemoveChild('Endpoint');

    this.authorizer = new apigw.RequestAuthorizer(this, 'Authorizer', {
      handler: props.authorizerFunction,
      // No identity sources: API Gateway would answer 401 itself whenever one named header is
      // missing, but the secret may come in either Authorization or x-api-key. With no identity
      // sources caching must be off; the authorizer caches key records itself (SPEC §4).
      identitySources: [],
      resultsCacheTtl: Duration.seconds(0),
    });
    omitIdentitySource(this.authorizer);

    const authorized: apigw.MethodOptions = { authorizer: this.authorizer, authorizationType: apigw.AuthorizationType.CUSTOM };
    // The admin API (SPEC §9): IAM (SigV4) only; the rekey authorizer never runs there.
    const iamAuthorized: apigw.MethodOptions = { authorizationType: apigw.AuthorizationType.IAM };
    const methodOptions = (route: RouteDef): apigw.MethodOptions =>
      route.scope === 'none' ? { authorizationType: apigw.AuthorizationType.NONE } : route.scope === 'operator' ? iamAuthorized : authorized;
    const isAdmin = (r: apigw.IResource) => r.path === ADMIN_PREFIX.slice(0, -1) || r.path.startsWith(ADMIN_PREFIX);
    const integration = (fn: lambda.IFunction) => new apigw.LambdaIntegration(fn, { allowTestInvoke: false });
    const notFound = integration(props.notFound);

    const touched = new Set<apigw.IResource>();
    for (const { route, handler } of props.routes) {
      const resource = this.api.root.resourceForPath(route.path);
      resource.addMethod(route.method, integration(handler), methodOptions(route));
      for (let r: apigw.IResource | undefined = resource; r && r !== this.api.root; r = r.parentResource) touched.add(r);
    }
    // Explicit methods win over ANY, so ANY on every route resource turns "wrong method on a known
    // path" into the not-found function (behind the authorizer) instead of API Gateway's 403.
    for (const r of touched) r.addMethod('ANY', notFound, isAdmin(r) ? iamAuthorized : authorized);
    this.api.root.addMethod('ANY', notFound, authorized);
    this.api.root.addResource('{proxy+}').addMethod('ANY', notFound, authorized);
    // Unknown admin paths: 401 unsigned, 404 signed (as locally), never the rekey authorizer.
    const adminRoot = this.api.root.getResource(ADMIN_PREFIX.slice(1, -1));
    adminRoot?.addResource('{proxy+}').addMethod('ANY', notFound, iamAuthorized);

    const corsHeaders: Record<string, string> | undefined = props.corsAllowedOrigin
      ? {
          'Access-Control-Allow-Origin': `'${props.corsAllowedOrigin}'`,
          'Access-Control-Allow-Headers': `'${CORS_HEADERS.join(',')}'`,
          Vary: "'Origin'",
        }
      : undefined;
    for (const g of GATEWAY_RESPONSES) {
      this.api.addGatewayResponse(`Response${g.type.responseType}`, {
        type: g.type,
        statusCode: g.status || undefined,
        responseHeaders: { 'Content-Type': "'application/json'", ...corsHeaders },
        templates: {
          'application/json': JSON.stringify({ error: { code: g.code, message: g.message, requestId: '$context.requestId' } }),
        },
      });
    }

    // Built from the API id, not from the stage: functions need this URL in their environment and
    // the stage depends on the functions (through the deployment), which would be a cycle.
    this.origin = Fn.join('', ['https://', this.api.restApiId, '.execute-api.', Aws.REGION, '.', Aws.URL_SUFFIX]);
    this.url = Fn.join('', [this.origin, '/', this.stageName]);
  }
}

/**
 * CDK renders an empty identity list as `IdentitySource: ""`; leave the property out instead, which
 * is what API Gateway expects of an uncached REQUEST authorizer.
 */
export function omitIdentitySource(authorizer: apigw.RequestAuthorizer): void {
  (authorizer.node.defaultChild as apigw.CfnAuthorizer).addPropertyDeletionOverride('IdentitySource');
}
