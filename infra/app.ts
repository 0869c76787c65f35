/**
 * The standalone rekey app (`cdk.json` runs `npx tsx infra/app.ts`). Settings come from context
 * (`cdk deploy -c senderEmail=… -c alarmEmail=…`); see docs/deploy.md for every one.
 */
import { Annotations, App } from 'aws-cdk-lib';
import { settingsFromContext } from './context.js';
import { ensureDashboardBuilt } from './dashboard-build.js';
import { addNagChecks } from './nag-checks.js';
import { RekeyStack } from './stack.js';

const app = new App();
const settings = settingsFromContext((key) => app.node.tryGetContext(key));
if (settings.service.dashboard !== false && settings.service.dashboardAssetPath === undefined) ensureDashboardBuilt();
const stack = new RekeyStack(app, settings.stackName, {
  stackName: settings.stackName,
  description: 'rekey: self-service API key rotation',
  service: settings.service,
});
for (const w of settings.warnings) Annotations.of(stack).addWarningV2('rekey:settings', w);
addNagChecks(app);
app.synth();
