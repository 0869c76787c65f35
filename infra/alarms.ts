import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AUTHORIZER_SERVICE, METRIC_NAMESPACE, STORE_FAILURES_METRIC as STORE_FAILURES } from '../shared/auth/metrics.js';

/** The metric the authorizer emits (EMF, `shared/auth/metrics.ts`) each time reading the key store fails. */
export const STORE_FAILURES_METRIC = {
  namespace: METRIC_NAMESPACE,
  metricName: STORE_FAILURES,
  dimensionsMap: { Service: AUTHORIZER_SERVICE },
} as const;

export interface ServiceAlarmsProps {
  /** Functions whose own errors and throttles page someone (the authorizer and the background triggers). */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** Route functions are watched through the API's 5XX count (errors and throttles surface there). */
  readonly api: apigw.RestApi;
  readonly stageName: string;
  /** Dead-letter queues: any message in one is a timer or an outbox record that was not handled. */
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  /** Failed webhook attempts (15-minute sums); alarms at `webhookFailureThreshold`. @default - no alarm */
  readonly webhookAttemptFailures?: cloudwatch.IMetric;
  /** @default 50 */
  readonly webhookFailureThreshold?: number;
  /** @default - no notifications, unless `emails` is given (then a new topic) */
  readonly topic?: sns.ITopic;
  /** Addresses subscribed to a new topic when `topic` is not given. @default [] */
  readonly emails?: readonly string[];
}

/**
 * CloudWatch alarms of a rekey deployment: errors and throttles of the authorizer and the
 * background functions, 5XX answers of the management API, the depth of each dead-letter queue and
 * the authorizer's store failures. All fire on the first bad data point: each one means a customer
 * was refused or a reminder, expiry or audit record is late.
 */
export class ServiceAlarms extends Construct {
  public readonly alarms: cloudwatch.Alarm[] = [];
  /** The topic alarms notify, when there is one. */
  public readonly topic: sns.ITopic | undefined;

  constructor(scope: Construct, id: string, props: ServiceAlarmsProps) {
    super(scope, id);
    const emails = props.emails ?? [];
    if (props.topic) {
      this.topic = props.topic;
    } else if (emails.length > 0) {
      const topic = new sns.Topic(this, 'Topic', { displayName: 'rekey alarms', enforceSSL: true });
      for (const e of emails) topic.addSubscription(new subscriptions.EmailSubscription(e));
      this.topic = topic;
    }

    const period = Duration.minutes(5);
    const add = (alarmId: string, metric: cloudwatch.IMetric, description: string, threshold = 1) => {
      const alarm = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      if (this.topic) alarm.addAlarmAction(new actions.SnsAction(this.topic));
      this.alarms.push(alarm);
    };

    for (const [name, fn] of Object.entries(props.functions)) {
      add(`${name}Errors`, fn.metricErrors({ period, statistic: 'Sum' }), `rekey ${name} function errors`);
      add(`${name}Throttles`, fn.metricThrottles({ period, statistic: 'Sum' }), `rekey ${name} function throttled`);
    }
    add(
      'Api5xx',
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName: '5XXError',
        dimensionsMap: { ApiName: props.api.restApiName, Stage: props.stageName },
        period,
        statistic: 'Sum',
      }),
      'rekey management API answered 5XX (a route function failed or was throttled)',
    );
    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      add(`${name}Depth`, queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }), `rekey ${name} has messages`);
    }
    if (props.webhookAttemptFailures) {
      // Customers' receivers fail now and then; many failures in 15 minutes point at rekey's side
      // (egress, DNS, a bad deploy) or at a widespread outage worth knowing about.
      add(
        'WebhookDeliveriesFailing',
        props.webhookAttemptFailures,
        'rekey webhook attempts are failing (non-2xx answers, timeouts or refused targets)',
        props.webhookFailureThreshold ?? 50,
      );
    }
    add(
      'AuthorizerStoreFailures',
      new cloudwatch.Metric({ ...STORE_FAILURES_METRIC, period, statistic: 'Sum' }),
      'rekey authorizer could not read the key store (requests were denied)',
    );
  }
}
