// Routes of ../shared/API.md that docs/openapi.json does not have yet (the branches that
// add them have not landed): their shapes exactly as API.md gives them, merged into the
// typed client's paths. Delete each entry when `make openapi` brings the real one.
import type { paths as generated } from "./schema";

export interface pending {
  "/account/authorised-emails/confirm": {
    parameters: { query?: never; header?: never; path?: never; cookie?: never };
    post: {
      parameters: { query?: never; header?: never; path?: never; cookie?: never };
      requestBody: { content: { "application/json": { token: string } } };
      responses: {
        200: {
          headers: Record<string, unknown>;
          content: { "application/json": { email: string; added_at: string; status: "confirmed" } };
        };
      };
    };
  };
}

export type paths = generated & Omit<pending, keyof generated>;
