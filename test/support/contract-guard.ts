// Set up for every workerd test file: no answer the test helpers saw (call, upload, fetchWithEnv) may contradict
// the OpenAPI document, so the spec cannot drift from the code unnoticed.
import { afterAll, expect } from "vitest";
import { takeViolations } from "./openapi-contract.ts";

afterAll(() => {
  expect(takeViolations(), "answers that contradict /openapi.json").toEqual([]);
});
