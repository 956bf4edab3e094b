package main

import (
	"strings"
	"testing"
)

const stream = `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"pass","Package":"p","Test":"TestA","Elapsed":0.5}
{"Action":"output","Package":"p","Test":"TestB/sub","Output":"    b_test.go:9: want 1, got 2\n"}
{"Action":"fail","Package":"p","Test":"TestB/sub","Elapsed":0.1}
{"Action":"pass","Package":"p","Test":"TestB/ok","Elapsed":0.1}
{"Action":"fail","Package":"p","Test":"TestB","Elapsed":0.2}
{"Action":"output","Package":"p","Test":"TestC","Output":"    c_test.go:3: chromium not installed\n"}
{"Action":"skip","Package":"p","Test":"TestC","Elapsed":0}
{"Action":"output","Package":"p","Test":"TestD/sqlite","Output":"=== RUN   TestD/sqlite\n"}
{"Action":"pass","Package":"p","Test":"TestD/sqlite","Elapsed":0.3}
{"Action":"output","Package":"p","Test":"TestD/postgres","Output":"    d_test.go:7: PostgreSQL unreachable\n"}
{"Action":"skip","Package":"p","Test":"TestD/postgres","Elapsed":0}
{"Action":"output","Package":"p","Test":"TestD","Output":"    d_test.go:2: a log line of a passing test\n"}
{"Action":"pass","Package":"p","Test":"TestD","Elapsed":0.4}
{"Action":"output","Package":"p","Output":"FAIL\n"}
{"Action":"fail","Package":"p","Elapsed":1.2}
{"ImportPath":"q","Action":"build-output","Output":"q/x.go:1:1: undefined: y\n"}
{"ImportPath":"q","Action":"build-fail"}
# p
compile error line
`

func TestReport(t *testing.T) {
	var sb strings.Builder
	ok := newReport(&sb).read(strings.NewReader(stream))
	out := sb.String()
	if ok {
		t.Error("a failed stream reported success")
	}
	for _, want := range []string{
		"PASS TestA (0.50s)",
		"FAIL TestB (0.20s, 2 subtests)",
		"FAIL TestB/sub (0.10s)",
		"b_test.go:9: want 1, got 2",
		"SKIP TestC",
		"chromium not installed",
		"FAIL\tp\t1.200s",
		"compile error line",
		"q/x.go:1:1: undefined: y",
		"PASS TestD (0.40s, 2 subtests, 1 skipped)",
		"SKIP TestD/postgres (0.00s)",
		"PostgreSQL unreachable",
		"\n2 passed, 1 failed, 1 skipped, 1 subtests skipped\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "=== RUN") {
		t.Errorf("report shows === lines:\n%s", out)
	}
	if strings.Contains(out, "a log line of a passing test") {
		t.Errorf("report shows the output of a passing test:\n%s", out)
	}
}

// Skips, of tests or of subtests, pass locally and fail under
// CC_REQUIRE_ALL=1, where every part a test needs is required.
func TestSkipsUnderRequireAll(t *testing.T) {
	const skips = `{"Action":"pass","Package":"p","Test":"TestA","Elapsed":0.5}
{"Action":"output","Package":"p","Test":"TestD/postgres","Output":"    d_test.go:7: PostgreSQL unreachable\n"}
{"Action":"skip","Package":"p","Test":"TestD/postgres","Elapsed":0}
{"Action":"pass","Package":"p","Test":"TestD","Elapsed":0.4}
{"Action":"pass","Package":"p","Elapsed":1.2}
`
	for _, requireAll := range []bool{false, true} {
		var sb strings.Builder
		r := newReport(&sb)
		r.requireAll = requireAll
		ok := r.read(strings.NewReader(skips))
		if ok == requireAll {
			t.Errorf("requireAll=%v: ok=%v\n%s", requireAll, ok, sb.String())
		}
		if !strings.Contains(sb.String(), "1 subtests skipped") || !strings.Contains(sb.String(), "PostgreSQL unreachable") {
			t.Errorf("requireAll=%v: the skip is not shown:\n%s", requireAll, sb.String())
		}
		if requireAll && !strings.Contains(sb.String(), "CC_REQUIRE_ALL=1: 1 tests and subtests skipped") {
			t.Errorf("no reason given for the failure:\n%s", sb.String())
		}
	}
}
