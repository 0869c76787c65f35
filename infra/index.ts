/** Public surface of rekey's CDK code, for stacks that embed the service. */
export { ApiKeyService, policyEnvironment, type ApiKeyServiceProps, type RouteName, type TriggerName } from './api-key-service.js';
export { ManagementApi, type ApiThrottle, type ManagementApiProps } from './api.js';
export { DashboardSite, DASHBOARD_CONFIG_FILE, type DashboardSiteProps } from './dashboard.js';
export { RekeyFunction, FUNCTION_RUNTIME, type RekeyFunctionProps } from './function.js';
export { KeyTable, TTL_ATTRIBUTE } from './table.js';
export { TimerScheduling, type TimerSchedulingProps } from './scheduling.js';
export { ServiceAlarms, STORE_FAILURES_METRIC, type ServiceAlarmsProps } from './alarms.js';
export { RekeyStack, type RekeyStackProps } from './stack.js';
// addNagChecks lives in its own entry (`rekey/nag`, infra/nag-checks.ts): cdk-nag is an optional peer dependency.
export { authorizerStatements, FUNCTION_GRANTS, grantStatements, type Grant, type PermissionTargets } from './permissions.js';
