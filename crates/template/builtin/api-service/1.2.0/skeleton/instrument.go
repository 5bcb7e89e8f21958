package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flushing, deadlines).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// instrument measures, traces and (on 5xx) logs every request the mux answers. The route is
// the pattern the mux matched, read after it ran, so routes added later are covered.
func instrument(mux *http.ServeMux, m *httpMetrics, t *tracer, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		parent, hasParent := parseTraceparent(r.Header.Get("traceparent"))
		sc := spanContext{span: newSpanID()}
		if hasParent {
			sc.trace = parent.trace
			sc.sampled = t.sample(sc.trace, &parent)
		} else {
			sc.trace = newTraceID()
			sc.sampled = t.sample(sc.trace, nil)
		}
		r = r.WithContext(context.WithValue(r.Context(), spanContextKey{}, sc))
		rec := &statusRecorder{ResponseWriter: w}
		m.begin()
		defer func() {
			code := rec.code
			if code == 0 {
				code = http.StatusOK
			}
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				code = http.StatusInternalServerError
				logger.ErrorContext(r.Context(), "handler panicked", "panic", fmt.Sprint(p), "path", r.URL.Path)
				if rec.code == 0 {
					http.Error(rec, "internal error", code)
				}
			}
			end := time.Now()
			route, method := routeLabel(r.Pattern), methodLabel(r.Method)
			m.observe(route, method, code, end.Sub(start).Seconds())
			if code >= 500 {
				logger.ErrorContext(r.Context(), "request failed", "method", method, "route", route, "status", code, "seconds", end.Sub(start).Seconds())
			}
			s := span{ctx: sc, name: method + " " + route, kind: 2, start: start, end: end, failed: code >= 500,
				attributes: []attribute{
					{"http.request.method", method},
					{"http.route", route},
					{"url.path", r.URL.Path},
					{"http.response.status_code", int64(code)},
				}}
			if hasParent {
				s.parent = parent.span
			}
			t.export(s)
		}()
		mux.ServeHTTP(rec, r)
	})
}
