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
		"\n1 passed, 1 failed, 1 skipped\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "=== RUN") {
		t.Errorf("report shows === lines:\n%s", out)
	}
}
