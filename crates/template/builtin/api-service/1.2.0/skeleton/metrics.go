package main

// Prometheus metrics in the text exposition format, with the standard library only (so the
// service builds offline and has no dependency to keep patched): request counts and latency
// histograms by route pattern, method and status, and Go runtime and process metrics.

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Latency buckets in seconds (the Prometheus client defaults); slo.yaml's latency SLO reads one.
var buckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type seriesKey struct {
	route, method, code string
}

type histogram struct {
	counts []uint64 // per bucket, not cumulative
	sum    float64
	count  uint64
}

type httpMetrics struct {
	mu        sync.Mutex
	requests  map[seriesKey]uint64
	durations map[seriesKey]*histogram // code left empty
	inFlight  int64
	started   time.Time
}

func newMetrics() *httpMetrics {
	return &httpMetrics{
		requests:  map[seriesKey]uint64{},
		durations: map[seriesKey]*histogram{},
		started:   time.Now(),
	}
}

func (m *httpMetrics) begin() {
	m.mu.Lock()
	m.inFlight++
	m.mu.Unlock()
}

// observe records one finished request. route is the ServeMux pattern without its method
// ("/orders/{id}"), or "unmatched": the label never holds a raw path, so it stays bounded.
func (m *httpMetrics) observe(route, method string, code int, seconds float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inFlight--
	m.requests[seriesKey{route, method, strconv.Itoa(code)}]++
	key := seriesKey{route: route, method: method}
	h := m.durations[key]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(buckets))}
		m.durations[key] = h
	}
	for i, le := range buckets {
		if seconds <= le {
			h.counts[i]++
			break
		}
	}
	h.sum += seconds
	h.count++
}

// knownMethods keeps the method label bounded: anything else is counted as "other".
var knownMethods = map[string]bool{
	"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true,
	"DELETE": true, "OPTIONS": true, "CONNECT": true, "TRACE": true,
}

func methodLabel(method string) string {
	if knownMethods[method] {
		return method
	}
	return "other"
}

// routeLabel turns a ServeMux pattern ("GET example.com/orders/{id}") into the route label
// ("/orders/{id}").
func routeLabel(pattern string) string {
	if pattern == "" {
		return "unmatched"
	}
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = strings.TrimLeft(pattern[i+1:], " \t")
	}
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		pattern = pattern[i:] // drop a host
	}
	return pattern
}

func (m *httpMetrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	m.write(w)
	writeRuntimeMetrics(w, m.started)
}

func (m *httpMetrics) write(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintln(w, "# HELP http_requests_total Requests answered, by route pattern, method and status code.")
	fmt.Fprintln(w, "# TYPE http_requests_total counter")
	keys := make([]seriesKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sortKeys(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "http_requests_total{route=%s,method=%s,code=%s} %d\n",
			quote(k.route), quote(k.method), quote(k.code), m.requests[k])
	}
	fmt.Fprintln(w, "# HELP http_request_duration_seconds Time to answer a request, by route pattern and method.")
	fmt.Fprintln(w, "# TYPE http_request_duration_seconds histogram")
	keys = keys[:0]
	for k := range m.durations {
		keys = append(keys, k)
	}
	sortKeys(keys)
	for _, k := range keys {
		h := m.durations[k]
		labels := fmt.Sprintf("route=%s,method=%s", quote(k.route), quote(k.method))
		var cumulative uint64
		for i, le := range buckets {
			cumulative += h.counts[i]
			fmt.Fprintf(w, "http_request_duration_seconds_bucket{%s,le=\"%s\"} %d\n",
				labels, strconv.FormatFloat(le, 'f', -1, 64), cumulative)
		}
		fmt.Fprintf(w, "http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %d\n", labels, h.count)
		fmt.Fprintf(w, "http_request_duration_seconds_sum{%s} %s\n", labels, formatFloat(h.sum))
		fmt.Fprintf(w, "http_request_duration_seconds_count{%s} %d\n", labels, h.count)
	}
	fmt.Fprintln(w, "# HELP http_requests_in_flight Requests being answered now.")
	fmt.Fprintln(w, "# TYPE http_requests_in_flight gauge")
	fmt.Fprintf(w, "http_requests_in_flight %d\n", m.inFlight)
}

func sortKeys(keys []seriesKey) {
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.route != b.route {
			return a.route < b.route
		}
		if a.method != b.method {
			return a.method < b.method
		}
		return a.code < b.code
	})
}
