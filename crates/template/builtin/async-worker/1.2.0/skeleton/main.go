// Command {{ name }}: {{ description }}
//
// It consumes JSON messages from the Redis list $QUEUE at least once (queue.go: a crash never
// loses a message, a message that keeps failing goes to the dead-letter list $QUEUE:dead), and
// serves /healthz, /readyz (200 only while Redis answers and the worker is not stopping) and
// /metrics on $METRICS_PORT. The SLOs in slo.yaml read worker_messages_total and
// worker_message_age_seconds. Redis: REDIS_HOST, REDIS_PORT, REDIS_USERNAME, REDIS_PASSWORD,
// REDIS_TLS, REDIS_CA_FILE. Traces go to an OTLP endpoint when OTEL_EXPORTER_OTLP_ENDPOINT is
// set (telemetry.go); logs are JSON lines with the message's trace id.
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

// process handles one message. Return an error to have it retried (3 attempts in all, 1 s and
// 2 s apart); a message that still fails goes to the dead-letter list. Make it idempotent: a
// message may be delivered again after a crash.
func process(_ context.Context, msg message) error {
	_ = msg.Payload
	return nil
}

func main() {
	healthcheck := flag.Bool("healthcheck", false, "probe /healthz and exit (for the image's HEALTHCHECK)")
	flag.Parse()
	port := getenv("METRICS_PORT", "{{ metrics_port }}")
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
	cfg, err := redisConfigFromEnv()
	if err != nil {
		return err
	}
	tracer, err := newTracerFromEnv(serviceName, os.Getenv, logger)
	if err != nil {
		return err
	}
	defer tracer.shutdown(context.Background())
	metrics := newWorkerMetrics()
	c := &consumer{
		cfg:        cfg,
		queue:      getenv("QUEUE", "{{ queue or name ~ '-jobs' }}"),
		id:         consumerID(),
		metrics:    metrics,
		tracer:     tracer,
		logger:     logger,
		handle:     process,
		retryDelay: time.Second,
	}
	var stopping atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		switch {
		case stopping.Load():
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
		case !c.connected.Load():
			http.Error(w, "queue unavailable", http.StatusServiceUnavailable)
		default:
			fmt.Fprintln(w, "ready")
		}
	})
	mux.Handle("GET /metrics", metrics)
	server := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	listener, err := net.Listen("tcp", ":"+port)
	if err != nil {
		return fmt.Errorf("cannot listen on port %s: %w", port, err)
	}
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()
	logger.Info("serving health and metrics", "addr", listener.Addr().String())

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		c.run(ctx)
	}()
	select {
	case err := <-served:
		return fmt.Errorf("health server stopped: %w", err)
	case <-ctx.Done():
	}
	stop() // a second signal ends the process at once
	stopping.Store(true)
	logger.Info("stopping: finishing the message in hand")
	<-consumed
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := server.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
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
