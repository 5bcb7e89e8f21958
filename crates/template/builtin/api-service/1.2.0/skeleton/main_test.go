package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func newTestHandler(t *testing.T, tr *tracer, logs io.Writer) (http.Handler, *httpMetrics) {
	t.Helper()
	m := newMetrics()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m)
	routes(mux)
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "broken" {
			http.Error(w, "broken", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return instrument(mux, m, tr, newLogger(logs)), m
}

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	out := httptest.NewRecorder()
	h.ServeHTTP(out, httptest.NewRequest("GET", "/metrics", nil))
	return out.Body.String()
}

func TestEveryRouteIsCountedByPatternAndMethod(t *testing.T) {
	h, _ := newTestHandler(t, nil, io.Discard)
	for _, path := range []string{"/", "/items/1", "/items/2", "/items/broken", "/no/such/path"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("BREW", "/", nil))
	body := scrape(t, h)
	for _, want := range []string{
		`http_requests_total{route="/{$}",method="GET",code="200"} 1`,
		`http_requests_total{route="/items/{id}",method="GET",code="204"} 2`,
		`http_requests_total{route="/items/{id}",method="GET",code="500"} 1`,
		`http_requests_total{route="unmatched",method="GET",code="404"} 1`,
		`http_requests_total{route="unmatched",method="other",code="405"} 1`,
		`http_request_duration_seconds_count{route="/items/{id}",method="GET"} 3`,
		`http_request_duration_seconds_bucket{route="/items/{id}",method="GET",le="+Inf"} 3`,
		"go_goroutines ",
		"process_start_time_seconds ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

func TestFailedRequestsAreLoggedWithTheirTraceID(t *testing.T) {
	var logs bytes.Buffer
	h, _ := newTestHandler(t, nil, &logs)
	req := httptest.NewRequest("GET", "/items/broken", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON log line: %v\n%s", err, logs.String())
	}
	if line["trace_id"] != "4bf92f3577b34da6a3ce929d0e0e4736" || line["route"] != "/items/{id}" || line["status"] != float64(500) {
		t.Errorf("log line: %v", line)
	}
}

func TestTraceparent(t *testing.T) {
	sc, ok := parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if !ok || !sc.sampled {
		t.Fatalf("a valid header was refused: %v", sc)
	}
	for _, bad := range []string{"", "00-0000000000000000000000000000000-00f067aa0ba902b7-01", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"} {
		if _, ok := parseTraceparent(bad); ok {
			t.Errorf("%q was accepted", bad)
		}
	}
}

func TestSpansAreExportedAsOTLPJSON(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]any
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Api-Key") != "secret" {
			t.Errorf("unexpected export %s %v", r.URL.Path, r.Header)
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("bad OTLP JSON: %v", err)
		}
		mu.Lock()
		got = append(got, body)
		mu.Unlock()
	}))
	defer collector.Close()
	env := map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL,
		"OTEL_EXPORTER_OTLP_HEADERS":  "api-key=secret",
		"OTEL_RESOURCE_ATTRIBUTES":    "deployment.environment.name=test",
	}
	tr, err := newTracerFromEnv("svc", func(k string) string { return env[k] }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil || tr == nil {
		t.Fatalf("tracer: %v %v", tr, err)
	}
	h, _ := newTestHandler(t, tr, io.Discard)
	req := httptest.NewRequest("GET", "/items/7", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	tr.shutdown(context.Background())
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("%d exports", len(got))
	}
	text, _ := json.Marshal(got[0])
	for _, want := range []string{`"traceId":"4bf92f3577b34da6a3ce929d0e0e4736"`, `"parentSpanId":"00f067aa0ba902b7"`, `"name":"GET /items/{id}"`, `"stringValue":"svc"`, `"intValue":"204"`} {
		if !strings.Contains(string(text), want) {
			t.Errorf("export lacks %s: %s", want, text)
		}
	}
}

func TestTracingIsOffWithoutAnEndpoint(t *testing.T) {
	tr, err := newTracerFromEnv("svc", func(string) string { return "" }, slog.Default())
	if err != nil || tr != nil {
		t.Fatalf("tracing should be off: %v %v", tr, err)
	}
	bad := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
	if _, err := newTracerFromEnv("svc", func(k string) string { return bad[k] }, slog.Default()); err == nil {
		t.Fatal("grpc must be refused with an error")
	}
}

func TestDurationEnv(t *testing.T) {
	for value, want := range map[string]time.Duration{"": 5 * time.Second, "250ms": 250 * time.Millisecond, "2": 2 * time.Second} {
		t.Setenv("SHUTDOWN_DELAY", value)
		if got, err := durationEnv("SHUTDOWN_DELAY", 5*time.Second); err != nil || got != want {
			t.Errorf("%q: %v %v", value, got, err)
		}
	}
	t.Setenv("SHUTDOWN_DELAY", "soon")
	if _, err := durationEnv("SHUTDOWN_DELAY", time.Second); err == nil {
		t.Error("a bad duration must be an error")
	}
}
