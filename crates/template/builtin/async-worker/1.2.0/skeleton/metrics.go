package main

// The worker's Prometheus metrics (standard library only): messages by result, how old they
// were when handled (the freshness SLO), how long handling took, retries and whether Redis is
// reachable; plus Go runtime and process metrics (runtime_metrics.go).

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Message age buckets in seconds; slo.yaml's freshness SLO reads one of them.
var ageBuckets = []float64{1, 5, 10, 30, 60, 300, 900, 3600}

// Handling time buckets in seconds.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type histogram struct {
	bounds []float64
	counts []uint64 // per bucket, not cumulative
	sum    float64
	count  uint64
}

func newHistogram(bounds []float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]uint64, len(bounds))}
}

func (h *histogram) observe(v float64) {
	for i, le := range h.bounds {
		if v <= le {
			h.counts[i]++
			break
		}
	}
	h.sum += v
	h.count++
}

func (h *histogram) write(w io.Writer, name, help string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name)
	var cumulative uint64
	for i, le := range h.bounds {
		cumulative += h.counts[i]
		fmt.Fprintf(w, "%s_bucket{le=\"%s\"} %d\n", name, strconv.FormatFloat(le, 'f', -1, 64), cumulative)
	}
	fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %s\n%s_count %d\n", name, h.count, name, formatFloat(h.sum), name, h.count)
}

type workerMetrics struct {
	mu        sync.Mutex
	results   map[string]uint64
	age       *histogram
	duration  *histogram
	retries   uint64
	connected bool
	started   time.Time
}

func newWorkerMetrics() *workerMetrics {
	return &workerMetrics{
		// Both results exist from the start, so a first failure is a rate, not a new series.
		results:  map[string]uint64{"success": 0, "failure": 0},
		age:      newHistogram(ageBuckets),
		duration: newHistogram(durationBuckets),
		started:  time.Now(),
	}
}

// observe records one settled message: result "success" or "failure" (dead-lettered).
func (m *workerMetrics) observe(result string, enqueuedAt, seconds float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.results[result]++
	m.duration.observe(seconds)
	if enqueuedAt > 0 {
		age := float64(time.Now().UnixNano())/1e9 - enqueuedAt
		if age < 0 {
			age = 0 // the producer's clock is ahead
		}
		m.age.observe(age)
	}
}

func (m *workerMetrics) retried() {
	m.mu.Lock()
	m.retries++
	m.mu.Unlock()
}

func (m *workerMetrics) setConnected(up bool) {
	m.mu.Lock()
	m.connected = up
	m.mu.Unlock()
}

func (m *workerMetrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	m.mu.Lock()
	fmt.Fprintln(w, "# HELP worker_messages_total Messages settled, by result (failure: dead-lettered).")
	fmt.Fprintln(w, "# TYPE worker_messages_total counter")
	for _, result := range []string{"failure", "success"} {
		fmt.Fprintf(w, "worker_messages_total{result=%s} %d\n", quote(result), m.results[result])
	}
	m.age.write(w, "worker_message_age_seconds", "Time from being queued to being settled.")
	m.duration.write(w, "worker_message_duration_seconds", "Time to handle a message, retries included.")
	fmt.Fprintf(w, "# HELP worker_message_retries_total Failed attempts that were retried.\n# TYPE worker_message_retries_total counter\nworker_message_retries_total %d\n", m.retries)
	up := 0
	if m.connected {
		up = 1
	}
	fmt.Fprintf(w, "# HELP worker_queue_connected Whether Redis answers (1) or not (0).\n# TYPE worker_queue_connected gauge\nworker_queue_connected %d\n", up)
	m.mu.Unlock()
	writeRuntimeMetrics(w, m.started)
}
