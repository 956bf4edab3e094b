package main

import (
	"bytes"
	"reflect"
	"runtime"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/cliniconnects/identity/idp/third_party/argon2"
)

// TestArgon2Share: a CPU profile's samples in the argon2 fork the
// password package hashes with (named as the running binary names it) and
// in upstream's x/crypto/argon2 (older binaries) count as argon2id; the
// collector's are counted apart from the rest.
func TestArgon2Share(t *testing.T) {
	fork := runtime.FuncForPC(reflect.ValueOf((*argon2.Buffer).IDKey).Pointer()).Name()
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
	}
	for i, name := range []string{fork, "golang.org/x/crypto/argon2.processBlocks.func1", "runtime.gcBgMarkWorker", "net/http.(*conn).serve"} {
		id := uint64(i + 1)
		fn := &profile.Function{ID: id, Name: name}
		loc := &profile.Location{ID: id, Line: []profile.Line{{Function: fn}}}
		p.Function = append(p.Function, fn)
		p.Location = append(p.Location, loc)
		p.Sample = append(p.Sample, &profile.Sample{Location: []*profile.Location{loc}, Value: []int64{1, 10}})
	}
	var data bytes.Buffer
	if err := p.Write(&data); err != nil {
		t.Fatal(err)
	}
	share, gc, err := argon2Share(data.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if share != 0.5 || gc != 0.25 {
		t.Errorf("argon2Share of one sample each in %s, x/crypto/argon2, the collector and net/http = %v, %v; want 0.5, 0.25", fork, share, gc)
	}
}
