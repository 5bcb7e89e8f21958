package main

import (
	"bufio"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestReadReply(t *testing.T) {
	read := func(s string) (reply, error) { return readReply(bufio.NewReader(strings.NewReader(s)), 0) }
	r, err := read("$2\r\n{}\r\n")
	if err != nil || r.str != "{}" {
		t.Fatalf("bulk string: %+v %v", r, err)
	}
	r, err = read("$-1\r\n")
	if err != nil || !r.isNil {
		t.Fatalf("a BLMOVE timeout is nil: %+v %v", r, err)
	}
	r, err = read("*2\r\n$1\r\n0\r\n*1\r\n$5\r\nq:p:a\r\n")
	if err != nil || len(r.items) != 2 || r.items[1].items[0].str != "q:p:a" {
		t.Fatalf("SCAN reply: %+v %v", r, err)
	}
	r, err = read("*2\r\n:1\r\n-WRONGTYPE no\r\n")
	if err != nil || r.items[0].num != 1 || r.items[1].err == nil {
		t.Fatalf("EXEC reply with an error inside: %+v %v", r, err)
	}
	_, err = read("-NOAUTH Authentication required.\r\n")
	var re redisError
	if !errors.As(err, &re) || !strings.HasPrefix(string(re), "NOAUTH") {
		t.Fatalf("error reply: %v", err)
	}
	for _, bad := range []string{"$999999999999\r\n", "*99999999\r\n", "?\r\n", "$3\r\nab", ":x\r\n"} {
		if _, err := read(bad); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}

func TestRedisConfig(t *testing.T) {
	t.Setenv("REDIS_HOST", "cache.internal")
	t.Setenv("REDIS_PORT", "6380")
	t.Setenv("REDIS_PASSWORD", "s3cret")
	t.Setenv("REDIS_TLS", "true")
	cfg, err := redisConfigFromEnv()
	if err != nil || cfg.addr != "cache.internal:6380" || !cfg.tls || cfg.password != "s3cret" {
		t.Fatalf("%+v %v", cfg, err)
	}
	t.Setenv("REDIS_TLS", "maybe")
	if _, err := redisConfigFromEnv(); err == nil {
		t.Error("REDIS_TLS=maybe must be refused")
	}
}

func TestMetricsCountResultsFromTheStart(t *testing.T) {
	m := newWorkerMetrics()
	out := httptest.NewRecorder()
	m.ServeHTTP(out, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(out.Body.String(), `worker_messages_total{result="failure"} 0`) {
		t.Errorf("the failure series must exist before the first failure:\n%s", out.Body.String())
	}
	m.observe("success", 0, 0.01)
	m.observe("failure", 1, 0.02)
	out = httptest.NewRecorder()
	m.ServeHTTP(out, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`worker_messages_total{result="success"} 1`,
		`worker_messages_total{result="failure"} 1`,
		`worker_message_age_seconds_count 1`,
		`worker_message_duration_seconds_count 2`,
		"worker_queue_connected 0",
		"go_goroutines ",
	} {
		if !strings.Contains(out.Body.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, out.Body.String())
		}
	}
}
