package main

// Go runtime and process metrics in the Prometheus text format (standard library only), and
// the helpers the other metrics share.

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// quote writes a label value as the exposition format wants it.
func quote(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(v) + `"`
}

func formatFloat(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// runtimeSamples are the runtime/metrics read for the go_* series.
var runtimeSamples = []struct{ name, metric, kind, help string }{
	{"/sched/goroutines:goroutines", "go_goroutines", "gauge", "Goroutines that currently exist."},
	{"/sched/gomaxprocs:threads", "go_sched_gomaxprocs_threads", "gauge", "GOMAXPROCS."},
	{"/memory/classes/heap/objects:bytes", "go_memstats_heap_alloc_bytes", "gauge", "Heap bytes in live and not yet swept objects."},
	{"/memory/classes/total:bytes", "go_memstats_sys_bytes", "gauge", "Bytes of memory mapped by the Go runtime."},
	{"/gc/cycles/total:gc-cycles", "go_gc_cycles_total", "counter", "Completed GC cycles."},
	{"/gc/heap/allocs:bytes", "go_memstats_alloc_bytes_total", "counter", "Bytes allocated on the heap."},
}

func writeRuntimeMetrics(w io.Writer, started time.Time) {
	samples := make([]metrics.Sample, len(runtimeSamples))
	for i, s := range runtimeSamples {
		samples[i].Name = s.name
	}
	metrics.Read(samples)
	for i, s := range runtimeSamples {
		var v float64
		switch samples[i].Value.Kind() {
		case metrics.KindUint64:
			v = float64(samples[i].Value.Uint64())
		case metrics.KindFloat64:
			v = samples[i].Value.Float64()
		default:
			continue // not provided by this Go version
		}
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", s.metric, s.help, s.metric, s.kind, s.metric, formatFloat(v))
	}
	fmt.Fprintf(w, "# HELP go_info Go version.\n# TYPE go_info gauge\ngo_info{version=%s} 1\n", quote(runtime.Version()))
	fmt.Fprintf(w, "# HELP process_start_time_seconds Start time of the process since the Unix epoch.\n# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %s\n",
		formatFloat(float64(started.UnixNano())/1e9))
	writeProcessMetrics(w)
}

// writeProcessMetrics reads /proc (Linux) for CPU, memory and file descriptors.
func writeProcessMetrics(w io.Writer) {
	if stat, err := os.ReadFile("/proc/self/stat"); err == nil {
		// Fields after the command name (which may hold spaces) start at ") ".
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 {
			fields := strings.Fields(string(stat)[i+1:])
			if len(fields) > 21 {
				utime, _ := strconv.ParseFloat(fields[11], 64)
				stime, _ := strconv.ParseFloat(fields[12], 64)
				rss, _ := strconv.ParseFloat(fields[21], 64)
				// USER_HZ is 100 on every Linux architecture Go supports.
				fmt.Fprintf(w, "# HELP process_cpu_seconds_total User and system CPU time.\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %s\n", formatFloat((utime+stime)/100))
				fmt.Fprintf(w, "# HELP process_resident_memory_bytes Resident memory.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %s\n", formatFloat(rss*float64(os.Getpagesize())))
			}
		}
	}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		fmt.Fprintf(w, "# HELP process_open_fds Open file descriptors.\n# TYPE process_open_fds gauge\nprocess_open_fds %d\n", len(fds))
	}
}
