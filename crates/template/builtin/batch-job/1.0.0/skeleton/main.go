// Command {{ name }}: {{ description }}
//
// It runs once and exits: 0 on success, 1 on failure. Kubernetes (a CronJob, schedule
// "{{ schedule }}") retries failed runs; the SLOs in slo.yaml read kube-state-metrics.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	// The CronJob's activeDeadlineSeconds stops a stuck run; SIGTERM gives it a chance to stop cleanly.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	start := time.Now()
	if err := run(ctx, logger); err != nil {
		logger.Error("run failed", "err", err, "seconds", time.Since(start).Seconds())
		os.Exit(1)
	}
	logger.Info("run succeeded", "seconds", time.Since(start).Seconds())
}

// run does the job's work. Make it idempotent: a failed run is retried.
func run(ctx context.Context, logger *slog.Logger) error {
	logger.Info("starting", "job", os.Getenv("JOB_NAME"))
	return ctx.Err()
}
