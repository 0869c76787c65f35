/**
 * Runs cdk-nag on an app. Its own module (the package entry `rekey/nag`) because cdk-nag is an
 * optional peer dependency: importing `rekey` must not require it.
 */
import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

/** Runs cdk-nag's AWS Solutions pack on the app; findings fail `cdk synth` (rekey's own are acknowledged). */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}
