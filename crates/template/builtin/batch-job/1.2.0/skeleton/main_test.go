package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
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

func TestRunOnceLogsJSONWithTheTraceID(t *testing.T) {
	var logs bytes.Buffer
	code := runOnce(newLogger(&logs), func(k string) string {
		return map[string]string{"RUN_TIMEOUT": "1m"}[k]
	})
	if code != 0 {
		t.Fatalf("exit code %d:\n%s", code, logs.String())
	}
	if !strings.Contains(logs.String(), `"msg":"run succeeded"`) || !strings.Contains(logs.String(), `"trace_id":"`) {
		t.Errorf("logs:\n%s", logs.String())
	}
}

func TestBadTimeoutIsAnError(t *testing.T) {
	for _, bad := range []string{"soon", "-5s", "0s"} {
		if _, err := parseTimeout(bad); err == nil {
			t.Errorf("RUN_TIMEOUT=%q was accepted", bad)
		}
	}
	if code := runOnce(newLogger(io.Discard), func(k string) string { return map[string]string{"RUN_TIMEOUT": "soon"}[k] }); code != 1 {
		t.Errorf("exit code %d for a bad RUN_TIMEOUT", code)
	}
}
