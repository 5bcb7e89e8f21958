// Command {{ name }}: {{ description }}
//
// Endpoints: /healthz (liveness), /readyz (readiness), /metrics (Prometheus text format; the
// SLOs in slo.yaml read http_requests_total and http_request_duration_seconds).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	healthcheck := flag.Bool("healthcheck", false, "probe /healthz and exit (for the image's HEALTHCHECK)")
	flag.Parse()
	port := os.Getenv("PORT")
	if port == "" {
		port = "{{ port }}"
	}
	if *healthcheck {
		os.Exit(probe("http://127.0.0.1:" + port + "/healthz"))
	}

	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	metrics := newMetrics()
	var ready atomic.Bool

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", metrics)
	mux.Handle("/", metrics.instrument(http.HandlerFunc(hello)))

	server := &http.Server{
		Addr:              ":" + port,
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		// Fail readiness first so the Service stops routing here, then drain.
		ready.Store(false)
		shutdown, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = server.Shutdown(shutdown)
	}()
	ready.Store(true)
	logger.Info("listening", "addr", server.Addr)
	if err := server.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("server failed", "err", err)
		os.Exit(1)
	}
}

func hello(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintln(w, `{"service":"{{ name }}"}`)
}

func probe(url string) int {
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 1
	}
	return 0
}

// Latency buckets in seconds; slo.yaml's latency SLO reads one of them.
var buckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

type metrics struct {
	mu       sync.Mutex
	requests map[int]uint64
	counts   []uint64
	sum      float64
	total    uint64
}

func newMetrics() *metrics {
	return &metrics{requests: map[int]uint64{}, counts: make([]uint64, len(buckets))}
}

type recorder struct {
	http.ResponseWriter
	code int
}

func (r *recorder) WriteHeader(code int) { r.code = code; r.ResponseWriter.WriteHeader(code) }

func (m *metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		seconds := time.Since(start).Seconds()
		m.mu.Lock()
		defer m.mu.Unlock()
		m.requests[rec.code]++
		for i, le := range buckets {
			if seconds <= le {
				m.counts[i]++
			}
		}
		m.sum += seconds
		m.total++
	})
}

func (m *metrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintln(w, "# TYPE http_requests_total counter")
	for code, n := range m.requests {
		fmt.Fprintf(w, "http_requests_total{code=\"%d\"} %d\n", code, n)
	}
	fmt.Fprintln(w, "# TYPE http_request_duration_seconds histogram")
	for i, le := range buckets {
		fmt.Fprintf(w, "http_request_duration_seconds_bucket{le=\"%s\"} %d\n", strconv.FormatFloat(le, 'f', -1, 64), m.counts[i])
	}
	fmt.Fprintf(w, "http_request_duration_seconds_bucket{le=\"+Inf\"} %d\n", m.total)
	fmt.Fprintf(w, "http_request_duration_seconds_sum %g\n", m.sum)
	fmt.Fprintf(w, "http_request_duration_seconds_count %d\n", m.total)
}
