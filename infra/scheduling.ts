import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { uniquePhysicalName } from './names.js';

export interface TimerSchedulingProps {
  /** ARN of the timer function, known before the function exists (its name is fixed up front). */
  readonly timerFunctionArn: string;
}

/**
 * EventBridge Scheduler plumbing for rekey's one-shot timers: a schedule group of its own, the role
 * the schedules run as (it may invoke the timer function and nothing else), and the encrypted,
 * TLS-only dead-letter queue that receives timers whose retries ran out. The retry policy itself
 * travels with each `CreateSchedule` call (see the scheduler adapter).
 */
export class TimerScheduling extends Construct {
  public readonly group: scheduler.CfnScheduleGroup;
  public readonly groupName: string;
  /** `arn:…:schedule/<group>/*`: the schedules rekey may create and delete. */
  public readonly schedulesArn: string;
  /** `arn:…:schedule-group/<group>`: what EventBridge Scheduler reports as `aws:SourceArn`. */
  public readonly groupArn: string;
  public readonly role: iam.Role;
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: TimerSchedulingProps) {
    super(scope, id);
    this.groupName = uniquePhysicalName(this, 'timers');
    this.group = new scheduler.CfnScheduleGroup(this, 'Group', { name: this.groupName });
    this.schedulesArn = Stack.of(this).formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${this.groupName}/*` });
    this.groupArn = Stack.of(this).formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: this.groupName });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'InvokeRole', {
      description: 'rekey: EventBridge Scheduler invokes the timer function',
      // Confused-deputy guard: only schedules of this account's rekey group may assume the role.
      // EventBridge Scheduler sets `aws:SourceArn` to the schedule GROUP's ARN (not the schedule's),
      // and its guide warns against scoping it to a schedule name or prefix: such a condition never
      // matches and every timer would fail to assume the role.
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': this.groupArn },
        },
      }),
    });
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.timerFunctionArn] }));
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }));
  }
}
