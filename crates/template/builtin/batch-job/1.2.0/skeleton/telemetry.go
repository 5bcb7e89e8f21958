package main

// Telemetry with the standard library only: W3C trace context, spans exported as OTLP/HTTP
// (JSON encoding) to an OpenTelemetry Collector, and JSON logs that carry the trace id.
//
// Configured with the standard OpenTelemetry variables; tracing is off unless an endpoint is set:
//   OTEL_EXPORTER_OTLP_ENDPOINT          base URL (http://otel-collector:4318; /v1/traces is added)
//   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT   full URL of the traces endpoint (wins)
//   OTEL_EXPORTER_OTLP_HEADERS           k=v,k2=v2 (URL-encoded values), e.g. an API key
//   OTEL_EXPORTER_OTLP_TIMEOUT           milliseconds per export (default 10000)
//   OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
//   OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG   parentbased_always_on (default), always_on,
//                                        always_off, traceidratio, parentbased_traceidratio, …
//   OTEL_BSP_SCHEDULE_DELAY              milliseconds between exports (default 5000)
//   OTEL_SDK_DISABLED=true, OTEL_TRACES_EXPORTER=none   turn it off
// Only the http/json protocol is spoken (a Collector's OTLP receiver accepts it on port 4318).

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

type traceID [16]byte
type spanID [8]byte

// spanContext is what a request carries: its trace, its own span and whether it is sampled.
type spanContext struct {
	trace   traceID
	span    spanID
	sampled bool
}

type spanContextKey struct{}

func spanFromContext(ctx context.Context) (spanContext, bool) {
	sc, ok := ctx.Value(spanContextKey{}).(spanContext)
	return sc, ok
}

// parseTraceparent reads a W3C traceparent header ("00-<32 hex>-<16 hex>-<2 hex>").
func parseTraceparent(h string) (spanContext, bool) {
	var sc spanContext
	parts := strings.Split(strings.TrimSpace(h), "-")
	if len(parts) < 4 || len(parts[0]) != 2 || parts[0] == "ff" || len(parts[1]) != 32 || len(parts[2]) != 16 || len(parts[3]) != 2 {
		return sc, false
	}
	if parts[0] == "00" && len(parts) != 4 {
		return sc, false
	}
	flags, err := hex.DecodeString(parts[3])
	if err != nil {
		return sc, false
	}
	if _, err := hex.Decode(sc.trace[:], []byte(parts[1])); err != nil || sc.trace == (traceID{}) {
		return sc, false
	}
	if _, err := hex.Decode(sc.span[:], []byte(parts[2])); err != nil || sc.span == (spanID{}) {
		return sc, false
	}
	sc.sampled = flags[0]&1 == 1
	return sc, true
}

func newTraceID() (t traceID) {
	for t == (traceID{}) {
		for i := 0; i < 16; i += 8 {
			v := rand.Uint64()
			for j := 0; j < 8; j++ {
				t[i+j] = byte(v >> (8 * j))
			}
		}
	}
	return t
}

func newSpanID() (s spanID) {
	for s == (spanID{}) {
		v := rand.Uint64()
		for j := 0; j < 8; j++ {
			s[j] = byte(v >> (8 * j))
		}
	}
	return s
}

type attribute struct {
	key   string
	value any // string, int64, float64 or bool
}

type span struct {
	ctx        spanContext
	parent     spanID
	name       string
	kind       int // 1 internal, 2 server, 3 client, 4 producer, 5 consumer
	start, end time.Time
	attributes []attribute
	failed     bool
}

// tracer samples spans and exports them in batches. A nil *tracer is valid and exports nothing.
type tracer struct {
	endpoint string
	headers  map[string]string
	resource []attribute
	sampler  string
	ratio    float64
	client   *http.Client
	delay    time.Duration
	logger   *slog.Logger

	mu      sync.Mutex
	pending []span
	dropped int
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

const maxPendingSpans = 2048

func newTracerFromEnv(service string, getenv func(string) string, logger *slog.Logger) (*tracer, error) {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return nil, nil
	}
	switch exporter := getenv("OTEL_TRACES_EXPORTER"); exporter {
	case "", "otlp":
	case "none":
		return nil, nil
	default:
		return nil, fmt.Errorf("OTEL_TRACES_EXPORTER=%q: only otlp and none are supported", exporter)
	}
	endpoint := getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	if endpoint == "" {
		base := getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
		if base == "" {
			return nil, nil // tracing is off
		}
		endpoint = strings.TrimRight(base, "/") + "/v1/traces"
	}
	if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("OTLP traces endpoint %q is not an http(s) URL", endpoint)
	}
	protocol := getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if protocol == "" {
		protocol = getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	if protocol == "grpc" {
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL=grpc: this service exports OTLP over HTTP (http/json, port 4318)")
	}
	headers := map[string]string{}
	for _, key := range []string{"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"} {
		for k, v := range parseKeyValues(getenv(key)) {
			headers[k] = v
		}
	}
	timeout := 10 * time.Second
	if ms, err := strconv.Atoi(getenv("OTEL_EXPORTER_OTLP_TIMEOUT")); err == nil && ms > 0 {
		timeout = time.Duration(ms) * time.Millisecond
	}
	delay := 5 * time.Second
	if ms, err := strconv.Atoi(getenv("OTEL_BSP_SCHEDULE_DELAY")); err == nil && ms > 0 {
		delay = time.Duration(ms) * time.Millisecond
	}
	resource := parseKeyValues(getenv("OTEL_RESOURCE_ATTRIBUTES"))
	if name := getenv("OTEL_SERVICE_NAME"); name != "" {
		resource["service.name"] = name
	} else if resource["service.name"] == "" {
		resource["service.name"] = service
	}
	t := &tracer{
		endpoint: endpoint,
		headers:  headers,
		sampler:  getenv("OTEL_TRACES_SAMPLER"),
		ratio:    1,
		client:   &http.Client{Timeout: timeout},
		delay:    delay,
		logger:   logger,
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	keys := make([]string, 0, len(resource))
	for k := range resource {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.resource = append(t.resource, attribute{k, resource[k]})
	}
	switch t.sampler {
	case "":
		t.sampler = "parentbased_always_on"
	case "always_on", "always_off", "parentbased_always_on", "parentbased_always_off":
	case "traceidratio", "parentbased_traceidratio":
		if arg := getenv("OTEL_TRACES_SAMPLER_ARG"); arg != "" {
			r, err := strconv.ParseFloat(arg, 64)
			if err != nil || r < 0 || r > 1 {
				return nil, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG=%q is not a ratio between 0 and 1", arg)
			}
			t.ratio = r
		}
	default:
		return nil, fmt.Errorf("OTEL_TRACES_SAMPLER=%q is not supported", t.sampler)
	}
	go t.loop()
	logger.Info("tracing on", "endpoint", endpoint, "sampler", t.sampler)
	return t, nil
}

func parseKeyValues(s string) map[string]string {
	out := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok || strings.TrimSpace(k) == "" {
			continue
		}
		if u, err := url.QueryUnescape(strings.TrimSpace(v)); err == nil {
			v = u
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out
}

// sample decides whether a new span in trace t (with an optional parent) is recorded.
func (t *tracer) sample(trace traceID, parent *spanContext) bool {
	if t == nil {
		return false
	}
	root := func() bool {
		switch t.sampler {
		case "always_off", "parentbased_always_off":
			return false
		case "traceidratio", "parentbased_traceidratio":
			// The spec's rule: the low 8 bytes of the trace id against the ratio.
			var v uint64
			for _, b := range trace[8:] {
				v = v<<8 | uint64(b)
			}
			return float64(v>>1) < t.ratio*float64(uint64(1)<<63)
		}
		return true
	}
	if parent != nil && strings.HasPrefix(t.sampler, "parentbased_") {
		return parent.sampled
	}
	return root()
}

// export queues a finished span; spans are dropped (and counted) when the queue is full.
func (t *tracer) export(s span) {
	if t == nil || !s.ctx.sampled {
		return
	}
	t.mu.Lock()
	if len(t.pending) >= maxPendingSpans {
		t.dropped++
	} else {
		t.pending = append(t.pending, s)
	}
	full := len(t.pending) >= 512
	t.mu.Unlock()
	if full {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
}

func (t *tracer) loop() {
	defer close(t.done)
	ticker := time.NewTicker(t.delay)
	defer ticker.Stop()
	for {
		select {
		case <-t.stop:
			t.flush(context.Background())
			return
		case <-ticker.C:
		case <-t.wake:
		}
		t.flush(context.Background())
	}
}

// shutdown exports what is queued, waiting at most 5 s.
func (t *tracer) shutdown(ctx context.Context) {
	if t == nil {
		return
	}
	close(t.stop)
	select {
	case <-t.done:
	case <-time.After(5 * time.Second):
	case <-ctx.Done():
	}
}

func (t *tracer) flush(ctx context.Context) {
	t.mu.Lock()
	batch, dropped := t.pending, t.dropped
	t.pending, t.dropped = nil, 0
	t.mu.Unlock()
	if dropped > 0 {
		t.logger.Warn("spans dropped: the export queue was full", "spans", dropped)
	}
	if len(batch) == 0 {
		return
	}
	body, err := json.Marshal(otlpRequest(t.resource, batch))
	if err != nil {
		t.logger.Warn("cannot encode spans", "err", err)
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint, bytes.NewReader(body))
	if err != nil {
		t.logger.Warn("cannot export spans", "err", err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range t.headers {
		req.Header.Set(k, v)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		t.logger.Warn("cannot export spans", "endpoint", t.endpoint, "err", err, "spans", len(batch))
		return
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		t.logger.Warn("the collector refused spans", "endpoint", t.endpoint, "status", resp.StatusCode, "spans", len(batch))
	}
}

// otlpRequest builds an ExportTraceServiceRequest in OTLP's JSON encoding (ids in hex,
// 64-bit integers as strings, enums as numbers).
func otlpRequest(resource []attribute, spans []span) map[string]any {
	out := make([]map[string]any, 0, len(spans))
	for _, s := range spans {
		o := map[string]any{
			"traceId":           hex.EncodeToString(s.ctx.trace[:]),
			"spanId":            hex.EncodeToString(s.ctx.span[:]),
			"name":              s.name,
			"kind":              s.kind,
			"startTimeUnixNano": strconv.FormatInt(s.start.UnixNano(), 10),
			"endTimeUnixNano":   strconv.FormatInt(s.end.UnixNano(), 10),
			"attributes":        otlpAttributes(s.attributes),
		}
		if s.parent != (spanID{}) {
			o["parentSpanId"] = hex.EncodeToString(s.parent[:])
		}
		if s.failed {
			o["status"] = map[string]any{"code": 2}
		}
		out = append(out, o)
	}
	return map[string]any{"resourceSpans": []any{map[string]any{
		"resource":   map[string]any{"attributes": otlpAttributes(resource)},
		"scopeSpans": []any{map[string]any{"scope": map[string]any{"name": serviceName}, "spans": out}},
	}}}
}

func otlpAttributes(attrs []attribute) []any {
	out := make([]any, 0, len(attrs))
	for _, a := range attrs {
		var v map[string]any
		switch x := a.value.(type) {
		case string:
			v = map[string]any{"stringValue": x}
		case int64:
			v = map[string]any{"intValue": strconv.FormatInt(x, 10)}
		case int:
			v = map[string]any{"intValue": strconv.Itoa(x)}
		case float64:
			v = map[string]any{"doubleValue": x}
		case bool:
			v = map[string]any{"boolValue": x}
		default:
			v = map[string]any{"stringValue": fmt.Sprint(x)}
		}
		out = append(out, map[string]any{"key": a.key, "value": v})
	}
	return out
}

// newLogger writes JSON lines; records logged with a request's context carry trace_id and
// span_id, so a log line leads to its trace.
func newLogger(w io.Writer) *slog.Logger {
	return slog.New(traceHandler{slog.NewJSONHandler(w, nil)})
}

type traceHandler struct{ slog.Handler }

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc, ok := spanFromContext(ctx); ok {
		r.AddAttrs(slog.String("trace_id", hex.EncodeToString(sc.trace[:])), slog.String("span_id", hex.EncodeToString(sc.span[:])))
	}
	return h.Handler.Handle(ctx, r)
}

func (h traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return traceHandler{h.Handler.WithAttrs(attrs)}
}

func (h traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{h.Handler.WithGroup(name)}
}
