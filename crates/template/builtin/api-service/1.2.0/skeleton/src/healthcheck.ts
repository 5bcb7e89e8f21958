// The image's HEALTHCHECK: GET /healthz, exit 0 when it answers 200.
const port = process.env.PORT || "{{ port }}";
fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) })
  .then((r) => process.exit(r.status === 200 ? 0 : 1))
  .catch(() => process.exit(1));
