// Command testreport reads `go test -json` on stdin and prints a readable
// report: every top-level test's result per package (so the output shows,
// for example, the storage conformance suite passing on SQLite and on
// PostgreSQL), the full output of every test that failed or was required and
// skipped, go test's usual package lines, and a closing
// "N passed, N failed, N skipped, N subtests skipped" line. Skipped
// subtests are counted and shown with their reason like skipped tests. It
// exits 1 when anything failed, and under CC_REQUIRE_ALL=1 (CI) also when
// anything skipped: there every part a test needs is required.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

type report struct {
	out     io.Writer
	output  map[string][]string // package/test → buffered output lines
	details map[string][]string // package/top-level test → failed and skipped subtests' output
	// subtests and subSkipped count, per package/top-level test, the
	// subtests ended and those of them that skipped.
	subtests, subSkipped    map[string]int
	passed, failed, skipped int
	skippedSubtests         int
	pkgFailed               bool
	// requireAll: a skip fails the run (CC_REQUIRE_ALL=1).
	requireAll bool
}

func main() {
	r := newReport(os.Stdout)
	r.requireAll = os.Getenv("CC_REQUIRE_ALL") == "1"
	if !r.read(os.Stdin) {
		os.Exit(1)
	}
}

func newReport(out io.Writer) *report {
	return &report{out: out, output: map[string][]string{}, details: map[string][]string{},
		subtests: map[string]int{}, subSkipped: map[string]int{}}
}

// read consumes the whole stream and prints the report; false when anything
// failed.
func (r *report) read(in io.Reader) bool {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Fprintln(r.out, sc.Text()) // build errors and the like are not JSON
			continue
		}
		r.handle(e)
	}
	fmt.Fprintf(r.out, "\n%d passed, %d failed, %d skipped, %d subtests skipped\n", r.passed, r.failed, r.skipped, r.skippedSubtests)
	ok := r.failed == 0 && !r.pkgFailed
	if n := r.skipped + r.skippedSubtests; n > 0 && r.requireAll {
		fmt.Fprintf(r.out, "CC_REQUIRE_ALL=1: %d tests and subtests skipped (see SKIP above); every part they need is required here\n", n)
		ok = false
	}
	return ok
}

func (r *report) handle(e event) {
	key := e.Package + "\x00" + e.Test
	switch e.Action {
	case "build-output":
		fmt.Fprint(r.out, e.Output)
	case "build-fail":
		r.pkgFailed = true
	case "output":
		r.output[key] = append(r.output[key], e.Output)
	case "pass", "fail", "skip":
		if e.Test == "" {
			r.packageDone(e)
			return
		}
		top, _, isSub := strings.Cut(e.Test, "/")
		group := e.Package + "\x00" + top
		if isSub {
			r.subtests[group]++
			if e.Action == "skip" {
				r.subSkipped[group]++
				r.skippedSubtests++
			}
			// A subtest ends before its parent: keep what a failure or
			// a skip said until the top-level test's line is printed.
			if e.Action != "pass" {
				r.details[group] = append(r.details[group], fmt.Sprintf("%s %s (%.2fs)\n", strings.ToUpper(e.Action), e.Test, e.Elapsed))
				r.details[group] = append(r.details[group], r.output[key]...)
			}
			delete(r.output, key)
			return
		}
		switch e.Action {
		case "pass":
			r.passed++
		case "fail":
			r.failed++
		case "skip":
			r.skipped++
		}
		subs := ""
		if n := r.subtests[group]; n > 0 {
			subs = fmt.Sprintf(", %d subtests", n)
		}
		if n := r.subSkipped[group]; n > 0 {
			subs += fmt.Sprintf(", %d skipped", n)
		}
		fmt.Fprintf(r.out, "    %-4s %s (%.2fs%s)\n", strings.ToUpper(e.Action), e.Test, e.Elapsed, subs)
		lines := r.details[group] // a passing test shows only its skipped subtests
		if e.Action != "pass" {
			lines = append(r.output[key], lines...)
		}
		if len(lines) > 0 {
			for _, l := range lines {
				if !strings.HasPrefix(l, "=== ") && !strings.HasPrefix(strings.TrimSpace(l), "--- ") {
					fmt.Fprint(r.out, "        ", strings.TrimLeft(l, " "))
				}
			}
		}
		delete(r.output, key)
		delete(r.details, group)
		delete(r.subtests, group)
		delete(r.subSkipped, group)
	}
}

func (r *report) packageDone(e event) {
	key := e.Package + "\x00"
	switch e.Action {
	case "pass":
		fmt.Fprintf(r.out, "ok  \t%s\t%.3fs\n", e.Package, e.Elapsed)
	case "skip":
		fmt.Fprintf(r.out, "?   \t%s\t[no test files]\n", e.Package)
	case "fail":
		r.pkgFailed = true
		for _, l := range r.output[key] {
			fmt.Fprint(r.out, l)
		}
		fmt.Fprintf(r.out, "FAIL\t%s\t%.3fs\n", e.Package, e.Elapsed)
	}
	delete(r.output, key)
}
