// A front end's first steps with the generated TypeScript client (openapi-typescript types,
// openapi-fetch calls), compiled with `tsc --strict` and run against the live service: sign
// in, read who you are, list events, write a learning record, read it back, delete it.
import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

const base = process.env.VOV_BASE_URL ?? "http://127.0.0.1:8080";
const fail = (what: string, detail: unknown): never => {
  console.error(`FAIL: ${what}`, detail);
  process.exit(1);
};

const anonymous = createClient<paths>({ baseUrl: base });
const signIn = await anonymous.POST("/v1/auth/token", {
  body: { grant_type: "password", username: "facilitator@vov.example", password: "lerenderwijs-demo" },
  bodySerializer: (body) => new URLSearchParams(body as Record<string, string>).toString(),
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
});
if (!signIn.data) fail("sign in", signIn.error);
const api = createClient<paths>({ baseUrl: base, headers: { Authorization: `Bearer ${signIn.data!.access_token}` } });

const me = await api.GET("/v1/me");
if (!me.data) fail("GET /v1/me", me.error);
const events = await api.GET("/v1/events", { params: { query: { limit: 5 } } });
if (!events.data || events.data.data.length === 0) fail("GET /v1/events", events.error);

const created = await api.POST("/v1/learning-records", {
  body: { title: "Samen leren op de werkvloer", activity_type: "peer_learning", started_on: "2026-11-02" },
});
if (!created.data) fail("POST /v1/learning-records", created.error);
const id = created.data!.id;
const read = await api.GET("/v1/learning-records/{id}", { params: { path: { id } } });
if (read.data?.title !== "Samen leren op de werkvloer") fail("GET /v1/learning-records/{id}", read.error);
const removed = await api.DELETE("/v1/learning-records/{id}", { params: { path: { id } } });
if (removed.response.status !== 204) fail("DELETE /v1/learning-records/{id}", removed.error);
const gone = await api.GET("/v1/learning-records/{id}", { params: { path: { id } } });
if (gone.response.status !== 404 || gone.error?.status !== 404) fail("a deleted record is gone", gone.error);

console.log(`TypeScript client: signed in as ${me.data!.id}, ${events.data!.data.length} events, a record written, read and deleted`);
