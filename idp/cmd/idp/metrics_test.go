package main

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// A metrics address serve cannot listen on stops the start with one line
// naming IDP_METRICS_LISTEN.
func TestServeMetricsListenTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c := newCLI(t)
	c.env["IDP_LISTEN"] = "127.0.0.1:0"
	c.env["IDP_METRICS_LISTEN"] = l.Addr().String()
	// A serve that ignored the setting would run until stopped.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var outb, errb syncBuffer
	code := run(ctx, []string{"serve"}, env{strings.NewReader(""), &outb, &errb, func(k string) string { return c.env[k] }})
	last := lastLine(errb.String())
	if code != 1 || !strings.HasPrefix(last, "idp: cannot listen on "+l.Addr().String()+" (IDP_METRICS_LISTEN)") {
		t.Fatalf("exit %d, last line %q; want exit 1 naming IDP_METRICS_LISTEN", code, last)
	}
}
