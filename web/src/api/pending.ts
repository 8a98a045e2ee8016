// Routes of ../shared/API.md that docs/openapi.json does not have yet (the branches that
// add them have not landed): their shapes exactly as API.md gives them, merged into the
// typed client's paths. Delete each entry when `make openapi` brings the real one.
import type { paths as generated } from "./schema";

export interface SessionInfo {
  session_id: string;
  created_at: string;
  last_seen_at: string;
  user_agent: string | null;
  ip: string | null;
  current: boolean;
}

interface NoContent {
  parameters: { query?: never; header?: never; path?: never; cookie?: never };
  requestBody?: never;
  responses: { 204: { headers: Record<string, unknown>; content?: never } };
}

export interface pending {
  "/account/sessions": {
    parameters: { query?: never; header?: never; path?: never; cookie?: never };
    get: {
      parameters: { query?: never; header?: never; path?: never; cookie?: never };
      requestBody?: never;
      responses: { 200: { headers: Record<string, unknown>; content: { "application/json": SessionInfo[] } } };
    };
  };
  "/account/sessions/{session_id}": {
    parameters: { query?: never; header?: never; path: { session_id: string }; cookie?: never };
    delete: {
      parameters: { query?: never; header?: never; path: { session_id: string }; cookie?: never };
      requestBody?: never;
      responses: { 204: { headers: Record<string, unknown>; content?: never } };
    };
  };
  "/account/sessions/revoke-others": {
    parameters: { query?: never; header?: never; path?: never; cookie?: never };
    post: NoContent;
  };
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
