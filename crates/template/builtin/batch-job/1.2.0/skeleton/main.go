// Command {{ name }}: {{ description }}
//
// It runs once and exits: 0 on success, 1 on failure. Kubernetes runs it on the schedule
// "{{ schedule }}" ({{ time_zone }}), retries failed runs and stops a run after
// activeDeadlineSeconds; the SLOs in slo.yaml read kube-state-metrics. The job keeps its own,
// earlier deadline (RUN_TIMEOUT): when it passes, or on SIGTERM, the context given to run ends;
// if run has not returned stopGrace later, the process exits anyway, so a stuck run never
// blocks the next one. Logs are JSON lines with the run's trace id; the run is traced over
// OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (telemetry.go).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const serviceName = "{{ name }}"

// stopGrace is how long run may take to return after its context ended.
const stopGrace = 5 * time.Second

var errDeadline = errors.New("the run passed its deadline (RUN_TIMEOUT)")

// run does the job's work. Make it idempotent: a failed run is retried. Return when ctx ends
// (pass ctx to every call that waits), or the process is stopped stopGrace later.
func run(ctx context.Context, logger *slog.Logger) error {
	logger.InfoContext(ctx, "working", "job", os.Getenv("JOB_NAME"))
	return ctx.Err()
}

func main() {
	logger := newLogger(os.Stdout)
	slog.SetDefault(logger)
	os.Exit(runOnce(logger, os.Getenv))
}

// runOnce runs the job with its deadline, traces and logs it, and returns the exit code.
func runOnce(logger *slog.Logger, getenv func(string) string) int {
	timeout, err := parseTimeout(getenv("RUN_TIMEOUT"))
	if err != nil {
		logger.Error("cannot start", "err", err)
		return 1
	}
	tracer, err := newTracerFromEnv(serviceName, getenv, logger)
	if err != nil {
		logger.Error("cannot start", "err", err)
		return 1
	}
	defer tracer.shutdown(context.Background())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, timeout, errDeadline)
		defer cancel()
	}
	sc := spanContext{trace: newTraceID(), span: newSpanID()}
	sc.sampled = tracer.sample(sc.trace, nil)
	ctx = context.WithValue(ctx, spanContextKey{}, sc)
	start := time.Now()
	logger.InfoContext(ctx, "run started", "timeout", timeout.String())

	done := make(chan error, 1)
	go func() { done <- safeRun(ctx, logger) }()
	var runErr error
	select {
	case runErr = <-done:
	case <-ctx.Done():
		select {
		case runErr = <-done:
		case <-time.After(stopGrace):
			runErr = fmt.Errorf("run did not return within %s of being stopped: %w", stopGrace, context.Cause(ctx))
		}
	}
	if runErr != nil && ctx.Err() != nil && !errors.Is(runErr, context.Cause(ctx)) {
		runErr = fmt.Errorf("%w (%w)", runErr, context.Cause(ctx))
	}
	end := time.Now()
	job := attribute{key: "job.name", value: serviceName}
	tracer.export(span{ctx: sc, name: "run " + serviceName, kind: 1, start: start, end: end, failed: runErr != nil,
		attributes: []attribute{job}})
	if runErr != nil {
		logger.ErrorContext(ctx, "run failed", "err", runErr, "seconds", end.Sub(start).Seconds(), "deadline", errors.Is(runErr, errDeadline))
		return 1
	}
	logger.InfoContext(ctx, "run succeeded", "seconds", end.Sub(start).Seconds())
	return 0
}

func safeRun(ctx context.Context, logger *slog.Logger) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return run(ctx, logger)
}

// parseTimeout reads RUN_TIMEOUT: a Go duration ("55m", "90s"); empty means no deadline.
func parseTimeout(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("RUN_TIMEOUT=%q is not a positive duration (e.g. 55m)", v)
	}
	return d, nil
}
