package main

import (
	"fmt"
	"net/http"
)

// routes registers the service's own endpoints with Go's pattern syntax ("GET /orders/{id}").
// Every route is measured and traced under its pattern by instrument (telemetry.go and
// metrics.go): a new route needs no metrics code. Describe it in openapi.yaml too.
func routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", hello)
}

func hello(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintln(w, `{"service":"{{ name }}"}`)
}
