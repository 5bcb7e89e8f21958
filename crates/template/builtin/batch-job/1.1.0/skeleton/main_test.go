package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
)

func TestRunStopsWhenCancelled(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := run(context.Background(), logger); err != nil {
		t.Fatalf("a run with time left must succeed: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := run(ctx, logger); err == nil {
		t.Fatal("a cancelled run must report it")
	}
}
