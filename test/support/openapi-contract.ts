// Holds each response the tests get from the Worker against the OpenAPI document it serves: the status must be one
// the operation documents, a JSON body must validate against the documented schema (Ajv, JSON Schema 2020-12 as
// OpenAPI 3.1 uses it), another body must have a documented media type, and every X-Request-Id, RateLimit-* and
// Retry-After header must be documented. Requests to no documented operation (/docs, unknown paths) are not held.

import { exports } from "cloudflare:workers";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const DOC_ID = "https://docuchat.test/openapi.json";
const CHECKED_HEADERS = ["X-Request-Id", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After"];

interface DocResponse {
  $ref?: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema?: unknown }>;
}
interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  responses: Record<string, DocResponse>;
}
interface Contract {
  ajv: Ajv2020;
  operations: Operation[];
  componentResponses: Record<string, DocResponse>;
}

export interface Violation {
  request: string;
  status: number;
  problem: string;
}

const violations: Violation[] = [];
/** Every violation seen so far by this test file. */
export const contractViolations = (): readonly Violation[] => violations;
/** The violations seen so far, forgotten: what a test that provokes them on purpose takes away. */
export const takeViolations = (): Violation[] => violations.splice(0);

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, "~0").replace(/\//g, "~1")).join("/");

let contract: Promise<Contract> | undefined;
function loadContract(): Promise<Contract> {
  contract ??= (async () => {
    const doc = (await (await exports.default.fetch(new Request("http://docuchat.test/openapi.json"))).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, DocResponse> }>>;
      components: { responses?: Record<string, DocResponse> };
    };
    // OpenAPI keywords (example, discriminator…) are not JSON Schema's: not strict. Schemas compile on first use.
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
    addFormats(ajv);
    ajv.addSchema({ ...doc, $id: DOC_ID });
    const operations = Object.entries(doc.paths).flatMap(([template, item]) =>
      Object.entries(item).map(([method, op]) => ({
        method: method.toUpperCase(),
        template,
        pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`),
        responses: op.responses,
      })),
    );
    return { ajv, operations, componentResponses: doc.components.responses ?? {} };
  })();
  return contract;
}

/** Checks `res` (a clone is read) against the documented operation for `method` `url`; records what does not hold. */
export async function checkContract(method: string, url: string, res: Response): Promise<void> {
  const { ajv, operations, componentResponses } = await loadContract();
  const { pathname } = new URL(url);
  const operation = operations.find((o) => o.method === method.toUpperCase() && o.pattern.test(pathname));
  if (!operation) return;
  const request = `${operation.method} ${operation.template}`;
  const problem = (text: string) => violations.push({ request, status: res.status, problem: text });

  let documented = operation.responses[String(res.status)];
  let responsePointer = pointer("paths", operation.template, operation.method.toLowerCase(), "responses", String(res.status));
  if (!documented) return void problem("status not documented");
  if (documented.$ref) {
    const name = documented.$ref.split("/").pop()!;
    documented = componentResponses[name]!;
    responsePointer = pointer("components", "responses", name);
  }

  for (const name of CHECKED_HEADERS)
    if (res.headers.has(name) && !Object.keys(documented.headers ?? {}).some((h) => h.toLowerCase() === name.toLowerCase()))
      problem(`header ${name} not documented`);

  if (res.status === 101 || res.status === 204 || res.body === null) return;
  const mediaType = res.headers.get("Content-Type")?.split(";")[0]?.trim() ?? "";
  if (!documented.content?.[mediaType]) return void problem(`body of type ${mediaType || "(none)"} not documented`);
  if (mediaType !== "application/json") return;
  try {
    const validate = ajv.getSchema(`${DOC_ID}#/${responsePointer}/content/${pointer(mediaType)}/schema`)!;
    const body: unknown = await res.clone().json();
    if (!validate(body)) problem(`body ${JSON.stringify(body).slice(0, 200)} does not match: ${ajv.errorsText(validate.errors)}`);
  } catch (err) {
    // A body that is not JSON, or a schema Ajv cannot compile: a violation for the contract test, never a failure of
    // the test that made the call.
    problem(`could not check the body: ${String(err)}`);
  }
}
