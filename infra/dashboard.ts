import { existsSync } from 'node:fs';
import path from 'node:path';
import { Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { uniquePhysicalName } from './names.js';

/** The file the dashboard reads at start-up to find the management API (written next to index.html). */
export const DASHBOARD_CONFIG_FILE = 'config.json';

export interface DashboardSiteProps {
  /** Folder with the built dashboard (`index.html` and its assets). */
  readonly assetPath: string;
  /** Management API base URL, written to `config.json` as `apiUrl`. */
  readonly apiUrl: string;
  /** Scheme and host of the management API: the only host the page may connect to. */
  readonly apiOrigin: string;
  /** More settings for `config.json` (the dashboard reads `maxTransitionSeconds`). @default {} */
  readonly settings?: Readonly<Record<string, string | number>>;
}

/**
 * The self-service dashboard (SPEC §7): a private S3 bucket served by CloudFront through origin
 * access control, a strict content security policy that allows the page to talk to the management
 * API and nothing else, and a `config.json` carrying the API URL (resolved at deploy time).
 */
export class DashboardSite extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly distribution: cloudfront.Distribution;
  /** `https://<id>.cloudfront.net`, no trailing slash: the CORS origin of the API. */
  public readonly origin: string;
  public readonly deployment: s3deploy.BucketDeployment;

  constructor(scope: Construct, id: string, props: DashboardSiteProps) {
    super(scope, id);
    if (!existsSync(path.join(props.assetPath, 'index.html'))) {
      throw new Error(
        `The dashboard is enabled but ${path.join(props.assetPath, 'index.html')} does not exist. ` +
          'Run `npm run dashboard:build` first, pass `dashboardAssetPath`, or set `dashboard: false`.',
      );
    }
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Only build output lives here; every deployment rewrites it.
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    // CloudFront policy and origin access control names are global to the account (CloudFront is a
    // global service), and CDK derives them from the construct path alone: the same stack in a
    // second region would collide. Stack name, path hash and region make them unique.
    const regional = (suffix: string, max: number) => Fn.join('-', [uniquePhysicalName(this, suffix, max - 15), Stack.of(this).region]);
    const headers = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      responseHeadersPolicyName: regional('headers', 128),
      comment: 'rekey dashboard: strict CSP, no framing, no referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          override: true,
          contentSecurityPolicy: Fn.join('', [
            "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; ",
            "connect-src 'self' ",
            props.apiOrigin,
            "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
          ]),
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
      },
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'rekey dashboard',
      defaultRootObject: 'index.html',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket, {
          originAccessControl: new cloudfront.S3OriginAccessControl(this, 'OriginAccess', {
            originAccessControlName: regional('oac', 64),
            description: 'rekey dashboard bucket',
          }),
        }),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
      },
      // A single-page app: unknown paths load the app, which renders its own "not found".
      errorResponses: [
        { httpStatus: 403, responseHttpStatus: 200, responsePagePath: '/index.html', ttl: Duration.minutes(1) },
        { httpStatus: 404, responseHttpStatus: 200, responsePagePath: '/index.html', ttl: Duration.minutes(1) },
      ],
    });
    this.origin = `https://${this.distribution.distributionDomainName}`;

    this.deployment = new s3deploy.BucketDeployment(this, 'Deploy', {
      destinationBucket: this.bucket,
      sources: [s3deploy.Source.asset(props.assetPath), s3deploy.Source.jsonData(DASHBOARD_CONFIG_FILE, { ...props.settings, apiUrl: props.apiUrl })],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      prune: true,
      memoryLimit: 256,
    });
  }
}
