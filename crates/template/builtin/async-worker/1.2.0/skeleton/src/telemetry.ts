// Tracing with the OpenTelemetry SDK, configured by the standard OTEL_* variables: one span
// per message (queue.ts), continuing the producer's trace when the message carries a
// traceparent. Spans are always made (logs carry their trace ids); they are exported over
// OTLP/HTTP only when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set.
import { trace } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";

export const SERVICE_NAME = "{{ name }}";

const env = process.env;
const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL;
if (endpoint && protocol === "grpc") {
  throw new Error(
    "OTEL_EXPORTER_OTLP_PROTOCOL=grpc: this service exports OTLP over HTTP (http/json, port 4318)",
  );
}
export const exporting =
  Boolean(endpoint) && env.OTEL_SDK_DISABLED !== "true" && env.OTEL_TRACES_EXPORTER !== "none";

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ "service.name": SERVICE_NAME }).merge(
    detectResources({ detectors: [envDetector] }),
  ),
  spanProcessors: exporting ? [new BatchSpanProcessor(new OTLPTraceExporter())] : [],
});
provider.register();

/** trace_id and span_id of the active span, for log lines. */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/** Exports what is queued (on shutdown). */
export async function shutdownTracing(): Promise<void> {
  await provider.shutdown();
}
