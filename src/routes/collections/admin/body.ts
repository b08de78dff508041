// The fields an admin sets on a collection, with their limits.
import { z } from "@hono/zod-openapi";
import { DESCRIPTION_MAX, NAME_MAX } from "../../../collections/present.ts";

export const NameField = z
  .string()
  .trim()
  .min(1)
  .max(NAME_MAX)
  .openapi({ description: `1-${NAME_MAX} characters (trimmed), unique in the tenant` });
export const DescriptionField = z
  .string()
  .max(DESCRIPTION_MAX)
  .openapi({ description: `At most ${DESCRIPTION_MAX} characters` });
export const VisibilityField = z
  .enum(["tenant", "members"])
  .openapi({ description: "tenant: every user of the tenant reads it; members: only the users listed as its members (and admins)" });

export const collectionExists = (name: string) => `The tenant already has a collection named '${name}'`;
