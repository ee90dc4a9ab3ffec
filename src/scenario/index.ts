/** Scenarios: loading and validating a scenario folder (fixtures/README.md), and generating big ones. */
export { loadScenario, listScenarioNames, resolveScenarioDir, ScenarioInputError, FIXTURES_DIR, type Scenario, type ScenarioEvent, type ExpectedDifference, type ExpectedDifferences } from './load.ts';
export { generateScenario, type GenerateOptions, type GenerateSummary } from './generate.ts';
export { SCENARIO_FILES, type ScenarioFile } from './files.ts';
