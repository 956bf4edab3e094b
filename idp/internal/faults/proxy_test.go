package faults

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"sync/atomic"
)

// maxReplayBody is the largest request body the proxy keeps to send to
// the next backend when the first refuses the connection; OAuth requests
// are a few hundred bytes.
const maxReplayBody = 64 << 10

// roundRobin is the load balancer in front of the replicas, as an
// operator would put one: each request goes to the next backend in turn;
// a backend that refuses the connection is skipped (the request, body and
// all, goes to the next), and a request cut off on a backend that dies
// under it answers 502 — the client retries.
type roundRobin struct {
	backends  []string // host:port
	next      atomic.Uint64
	transport *http.Transport

	skipped atomic.Int64 // dials refused, request sent to the next backend
	failed  atomic.Int64 // requests answered 502
}

func newRoundRobin(backends ...string) *roundRobin {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 4 * nClients
	return &roundRobin{backends: backends, transport: t}
}

// handler is the proxy: the client's Host stays as it is (the issuer's),
// as behind a real load balancer.
func (rr *roundRobin) handler() http.Handler {
	return &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.Out.URL.Scheme = "http" },
		Transport: rr,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() == nil { // not a client that gave up
				rr.failed.Add(1)
			}
			w.WriteHeader(http.StatusBadGateway)
		},
	}
}

// RoundTrip sends req to the next backend, and on to the following ones
// while they refuse the connection.
func (rr *roundRobin) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(req.Body, maxReplayBody+1))
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		if len(b) > maxReplayBody {
			return nil, errors.New("proxy: request body too large to replay")
		}
		body = b
	}
	first := rr.next.Add(1)
	var err error
	for i := range rr.backends {
		out := req.Clone(req.Context())
		out.URL.Host = rr.backends[(first+uint64(i))%uint64(len(rr.backends))]
		if body != nil {
			out.Body = io.NopCloser(bytes.NewReader(body))
			out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
		var resp *http.Response
		resp, err = rr.transport.RoundTrip(out)
		if err == nil {
			return resp, nil
		}
		if !refused(err) {
			return nil, err // sent, and cut off: 502
		}
		rr.skipped.Add(1)
	}
	return nil, fmt.Errorf("proxy: every backend refused: %w", err)
}

// refused reports whether err is a failed dial: nothing was sent, so the
// request may go elsewhere.
func refused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
