// Command {{ name }}: {{ description }}
//
// It pops jobs from the Redis list $QUEUE (BLPOP), processes them, and serves /healthz,
// /readyz and /metrics on $METRICS_PORT. The SLOs in slo.yaml read worker_messages_total and
// worker_message_age_seconds. A message is JSON: {"enqueued_at": <unix seconds>, ...}.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
)

func main() {
	healthcheck := flag.Bool("healthcheck", false, "probe /healthz and exit (for the image's HEALTHCHECK)")
	flag.Parse()
	port := getenv("METRICS_PORT", "{{ metrics_port }}")
	if *healthcheck {
		os.Exit(probe("http://127.0.0.1:" + port + "/healthz"))
	}
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	m := newMetrics()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ready") })
	mux.Handle("GET /metrics", m)
	server := &http.Server{Addr: ":" + port, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = server.ListenAndServe() }()

	addr := net.JoinHostPort(getenv("REDIS_HOST", "127.0.0.1"), getenv("REDIS_PORT", "6379"))
	queue := getenv("QUEUE", "{{ queue or name ~ '-jobs' }}")
	logger.Info("consuming", "queue", queue, "redis", addr)
	for ctx.Err() == nil {
		if err := consume(ctx, addr, queue, m, logger); err != nil && ctx.Err() == nil {
			logger.Error("queue connection lost; reconnecting", "err", err)
			time.Sleep(2 * time.Second)
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = server.Shutdown(shutdown)
}

// process handles one message. Return an error to count it as failed.
func process(_ context.Context, msg message) error {
	_ = msg
	return nil
}

type message struct {
	EnqueuedAt float64         `json:"enqueued_at"`
	Payload    json.RawMessage `json:"payload"`
}

func consume(ctx context.Context, addr, queue string, m *metrics, logger *slog.Logger) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	reader := bufio.NewReader(conn)
	for ctx.Err() == nil {
		// BLPOP with a 5 s timeout so shutdown is noticed.
		fmt.Fprintf(conn, "*3\r\n$5\r\nBLPOP\r\n$%d\r\n%s\r\n$1\r\n5\r\n", len(queue), queue)
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		reply, err := readReply(reader)
		if err != nil {
			return err
		}
		if len(reply) != 2 {
			continue // timeout: nothing queued
		}
		var msg message
		result := "success"
		if err := json.Unmarshal([]byte(reply[1]), &msg); err != nil {
			result = "failure"
			logger.Warn("undecodable message", "err", err)
		} else if err := process(ctx, msg); err != nil {
			result = "failure"
			logger.Warn("message failed", "err", err)
		}
		m.observe(result, msg.EnqueuedAt)
	}
	return nil
}

// readReply reads a RESP array of bulk strings (or a nil array).
func readReply(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 {
		return nil, errors.New("short reply")
	}
	switch line[0] {
	case '-':
		return nil, errors.New(line[1 : len(line)-2])
	case '*':
		n, err := strconv.Atoi(line[1 : len(line)-2])
		if err != nil || n < 0 {
			return nil, nil
		}
		items := make([]string, 0, n)
		for i := 0; i < n; i++ {
			header, err := r.ReadString('\n')
			if err != nil {
				return nil, err
			}
			size, err := strconv.Atoi(header[1 : len(header)-2])
			if err != nil || size < 0 {
				return nil, errors.New("bad bulk string")
			}
			buf := make([]byte, size+2)
			if _, err := io.ReadFull(r, buf); err != nil {
				return nil, err
			}
			items = append(items, string(buf[:size]))
		}
		return items, nil
	}
	return nil, fmt.Errorf("unexpected reply %q", line)
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

// Message age buckets in seconds; slo.yaml's freshness SLO reads one of them.
var buckets = []float64{1, 5, 10, 30, 60, 300, 900, 3600}

type metrics struct {
	mu      sync.Mutex
	results map[string]uint64
	counts  []uint64
	sum     float64
	total   uint64
}

func newMetrics() *metrics {
	return &metrics{results: map[string]uint64{}, counts: make([]uint64, len(buckets))}
}

func (m *metrics) observe(result string, enqueuedAt float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.results[result]++
	if enqueuedAt <= 0 {
		return
	}
	age := float64(time.Now().UnixNano())/1e9 - enqueuedAt
	for i, le := range buckets {
		if age <= le {
			m.counts[i]++
		}
	}
	m.sum += age
	m.total++
}

func (m *metrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintln(w, "# TYPE worker_messages_total counter")
	for result, n := range m.results {
		fmt.Fprintf(w, "worker_messages_total{result=%q} %d\n", result, n)
	}
	fmt.Fprintln(w, "# TYPE worker_message_age_seconds histogram")
	for i, le := range buckets {
		fmt.Fprintf(w, "worker_message_age_seconds_bucket{le=\"%s\"} %d\n", strconv.FormatFloat(le, 'f', -1, 64), m.counts[i])
	}
	fmt.Fprintf(w, "worker_message_age_seconds_bucket{le=\"+Inf\"} %d\n", m.total)
	fmt.Fprintf(w, "worker_message_age_seconds_sum %g\n", m.sum)
	fmt.Fprintf(w, "worker_message_age_seconds_count %d\n", m.total)
}
