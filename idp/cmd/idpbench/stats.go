package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Kinds of operation: through HTTP against the running provider, directly
// on the store, or the admin API's list and search through its typed
// client (HTTP too).
const (
	kindHTTP    = "http"
	kindStorage = "storage"
	kindAPI     = "api"
)

// listKind reports whether kind is a list or search operation, which
// reports rows and is judged against listTarget.
func listKind(kind string) bool { return kind == kindStorage || kind == kindAPI }

// opResult is one operation's measurements. Durations are milliseconds.
type opResult struct {
	Op       string  `json:"op"`
	Kind     string  `json:"kind"`
	N        int     `json:"n"`
	P50MS    float64 `json:"p50_ms"`
	P95MS    float64 `json:"p95_ms"`
	P99MS    float64 `json:"p99_ms"`
	MaxMS    float64 `json:"max_ms"`
	MeanMS   float64 `json:"mean_ms"`
	CPUPerOp float64 `json:"cpu_per_op_ms"`
	OpsPerS  float64 `json:"ops_per_s"`
	// Rows is how many users the last run returned (list and search only).
	Rows int    `json:"rows,omitempty"`
	Note string `json:"note,omitempty"`
}

// sampler collects the latencies of one operation, and the wall and CPU
// time of the stretches in which only timed runs happened (a setup phase
// between stretches is not counted).
type sampler struct {
	lat  []time.Duration
	wall time.Duration
	cpu  time.Duration

	w0 time.Time
	c0 time.Duration
}

// start opens a stretch of timed runs.
func (s *sampler) start() { s.c0, s.w0 = cpuTime(), time.Now() }

// stop closes the stretch.
func (s *sampler) stop() {
	s.wall += time.Since(s.w0)
	s.cpu += cpuTime() - s.c0
}

// time runs fn once and records how long it took.
func (s *sampler) time(fn func() error) error {
	t0 := time.Now()
	err := fn()
	s.lat = append(s.lat, time.Since(t0))
	return err
}

func (s *sampler) result(op, kind string) *opResult {
	r := &opResult{Op: op, Kind: kind, N: len(s.lat)}
	if r.N == 0 {
		return r
	}
	sorted := slices.Clone(s.lat)
	slices.Sort(sorted)
	var sum time.Duration
	for _, d := range sorted {
		sum += d
	}
	r.P50MS = ms(percentile(sorted, 0.50))
	r.P95MS = ms(percentile(sorted, 0.95))
	r.P99MS = ms(percentile(sorted, 0.99))
	r.MaxMS = ms(sorted[len(sorted)-1])
	r.MeanMS = ms(sum / time.Duration(r.N))
	r.CPUPerOp = ms(s.cpu / time.Duration(r.N))
	if s.wall > 0 {
		r.OpsPerS = round3(float64(r.N) / s.wall.Seconds())
	}
	return r
}

// percentile is the nearest-rank percentile of sorted (ascending).
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// cpuTime is the user+sys CPU this process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// printTable writes one backend's results as a plain table.
func printTable(w io.Writer, b *backendRun) {
	const row = "%-8s  %-25s  %5s  %9s  %9s  %9s  %9s  %9s  %8s  %4s\n"
	header := fmt.Sprintf(row, "backend", "op", "n", "p50", "p95", "p99", "max", "cpu/op", "ops/s", "rows")
	fmt.Fprint(w, header)
	fmt.Fprintln(w, strings.Repeat("-", len(header)-1))
	for _, r := range b.Ops {
		rows := ""
		if listKind(r.Kind) {
			rows = fmt.Sprint(r.Rows)
		}
		fmt.Fprintf(w, row, b.Backend, r.Op, fmt.Sprint(r.N), fmtMS(r.P50MS), fmtMS(r.P95MS), fmtMS(r.P99MS),
			fmtMS(r.MaxMS), fmtMS(r.CPUPerOp), fmt.Sprintf("%.1f", r.OpsPerS), rows)
	}
}

// printLegend says once what every operation of the runs does.
func printLegend(w io.Writer, runs []*backendRun) {
	seen := map[string]bool{}
	for _, b := range runs {
		for _, r := range b.Ops {
			if r.Note != "" && !seen[r.Op] {
				seen[r.Op] = true
				fmt.Fprintf(w, "  %-25s  %s\n", r.Op, r.Note)
			}
		}
	}
}

func fmtMS(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0fms", v)
	case v >= 10:
		return fmt.Sprintf("%.1fms", v)
	}
	return fmt.Sprintf("%.2fms", v)
}
