/** Scenarios: a domain's scenario folders (fixtures/README.md), loaded and validated, and what generators write them with. */
export { loadScenario, listScenarioNames, resolveScenarioDir, ScenarioInputError, type Scenario, type ScenarioEvent, type ScenarioProject, type ExpectedDifference, type ExpectedDifferences } from './load.ts';
export { scenarioFiles } from './files.ts';
export { CsvWriter, openScenarioFiles, seededRandom, writeScenarioInfo } from './writer.ts';
