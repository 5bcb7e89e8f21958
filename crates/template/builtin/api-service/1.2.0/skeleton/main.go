// Command {{ name }}: {{ description }}
//
// Endpoints: /healthz (liveness), /readyz (readiness; 503 from the first SIGTERM on), /metrics
// (Prometheus text format) and the routes in routes.go. Every request is counted by route
// pattern and method (http_requests_total, http_request_duration_seconds: the SLOs in slo.yaml
// read them), logged as JSON with its trace id when it fails, and traced over OTLP when
// OTEL_EXPORTER_OTLP_ENDPOINT is set (telemetry.go).
//
// Shutdown: on SIGTERM readiness turns false, the server keeps serving for SHUTDOWN_DELAY
// (default 5s, long enough for endpoints and load balancers to stop routing here), then stops
// accepting connections and waits up to SHUTDOWN_TIMEOUT (default 20s) for requests in flight.
// Kubernetes allows 30s (terminationGracePeriodSeconds) before it kills the process.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

const serviceName = "{{ name }}"

func main() {
	healthcheck := flag.Bool("healthcheck", false, "probe /healthz and exit (for the image's HEALTHCHECK)")
	flag.Parse()
	port := getenv("PORT", "{{ port }}")
	if *healthcheck {
		os.Exit(probe("http://127.0.0.1:" + port + "/healthz"))
	}
	logger := newLogger(os.Stdout)
	slog.SetDefault(logger)
	if err := run(logger, port); err != nil {
		logger.Error("exiting", "err", err)
		os.Exit(1)
	}
}

func run(logger *slog.Logger, port string) error {
	delay, err := durationEnv("SHUTDOWN_DELAY", 5*time.Second)
	if err != nil {
		return err
	}
	timeout, err := durationEnv("SHUTDOWN_TIMEOUT", 20*time.Second)
	if err != nil {
		return err
	}
	tracer, err := newTracerFromEnv(serviceName, os.Getenv, logger)
	if err != nil {
		return err
	}
	defer tracer.shutdown(context.Background())

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
	routes(mux)

	server := &http.Server{
		Handler:           instrument(mux, metrics, tracer, logger),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	listener, err := net.Listen("tcp", ":"+port)
	if err != nil {
		return fmt.Errorf("cannot listen on port %s: %w", port, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()
	ready.Store(true)
	logger.Info("listening", "addr", listener.Addr().String())

	select {
	case err := <-served:
		return fmt.Errorf("server stopped: %w", err)
	case <-ctx.Done():
	}
	stop() // a second signal ends the process at once
	ready.Store(false)
	logger.Info("draining: readiness is off", "delay", delay.String(), "timeout", timeout.String())
	time.Sleep(delay)
	drain, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := server.Shutdown(drain); err != nil {
		return fmt.Errorf("requests still in flight after %s: %w", timeout, err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

func getenv(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

// durationEnv reads a Go duration ("5s", "250ms") or a number of seconds.
func durationEnv(key string, fallback time.Duration) (time.Duration, error) {
	v := os.Getenv(key)
	if v == "" {
		return fallback, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return d, nil
	}
	var seconds float64
	if _, err := fmt.Sscanf(v, "%g", &seconds); err == nil && seconds >= 0 {
		return time.Duration(seconds * float64(time.Second)), nil
	}
	return 0, fmt.Errorf("%s=%q is not a duration (e.g. 5s or 500ms)", key, v)
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
