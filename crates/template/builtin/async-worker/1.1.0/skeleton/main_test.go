package main

import (
	"bufio"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestReadReplyParsesBLPOP(t *testing.T) {
	reply, err := readReply(bufio.NewReader(strings.NewReader("*2\r\n$4\r\njobs\r\n$2\r\n{}\r\n")))
	if err != nil || len(reply) != 2 || reply[0] != "jobs" || reply[1] != "{}" {
		t.Fatalf("got %q, %v", reply, err)
	}
	timeout, err := readReply(bufio.NewReader(strings.NewReader("*-1\r\n")))
	if err != nil || timeout != nil {
		t.Fatalf("a BLPOP timeout is no message, got %q, %v", timeout, err)
	}
}

func TestMetricsCountResults(t *testing.T) {
	m := newMetrics()
	m.observe("success", 0)
	m.observe("failure", 0)
	out := httptest.NewRecorder()
	m.ServeHTTP(out, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{`worker_messages_total{result="success"} 1`, `worker_messages_total{result="failure"} 1`} {
		if !strings.Contains(out.Body.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, out.Body.String())
		}
	}
}
