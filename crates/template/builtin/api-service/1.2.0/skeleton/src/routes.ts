import type { FastifyInstance } from "fastify";

/**
 * The service's own endpoints. Every route is measured and traced under its pattern
 * ("/orders/:id") by the hooks in app.ts: a new route needs no metrics code. Describe it in
 * openapi.yaml too.
 */
export function routes(app: FastifyInstance): void {
  app.get("/", async () => ({ service: "{{ name }}" }));
}
