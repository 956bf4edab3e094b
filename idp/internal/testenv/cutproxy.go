package testenv

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// CutProxy forwards TCP connections from a loopback port to a target (a
// database server) and simulates the target's failure for the process
// under test, without stopping a database other tests share:
//
//   - Cut closes the listening socket, so new connections are refused as
//     by a stopped server, and drops every open connection, as a server
//     that went away would.
//   - Stall makes the target silent, as a network that drops packets: open
//     connections stay open but nothing comes back, new ones are accepted
//     and never answered.
//
// Restore ends either: the proxy listens on the same port again and
// forwards; connections from before are closed.
type CutProxy struct {
	t      testing.TB
	target string
	addr   string

	mu      sync.Mutex
	ln      net.Listener // nil while cut
	stalled bool
	clients map[net.Conn]struct{} // the process's ends
	ups     map[net.Conn]struct{} // the target's ends
	wg      sync.WaitGroup
}

// NewCutProxy starts a proxy to target (host:port), stopped when t ends.
func NewCutProxy(t testing.TB, target string) *CutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("cut proxy: %v", err)
	}
	p := &CutProxy{t: t, target: target, addr: ln.Addr().String(),
		clients: map[net.Conn]struct{}{}, ups: map[net.Conn]struct{}{}}
	p.mu.Lock()
	p.serveLocked(ln)
	p.mu.Unlock()
	t.Cleanup(func() {
		p.Cut()
		p.wg.Wait()
	})
	return p
}

// Addr is the proxy's host:port.
func (p *CutProxy) Addr() string { return p.addr }

// Via returns the URL dsn with its host and port replaced by the proxy's.
func (p *CutProxy) Via(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		p.t.Fatalf("cut proxy: the DSN does not parse")
	}
	u.Host = p.addr
	return u.String()
}

// Cut refuses new connections and drops the open ones.
func (p *CutProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	p.stalled = false
	closeAll(p.clients)
	closeAll(p.ups)
}

// Stall keeps every connection open and silent: the target's ends are
// closed, the process's are not, and new connections are held unanswered.
func (p *CutProxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = true
	closeAll(p.ups)
}

// Restore forwards again, on the same port; connections held by Stall
// are closed.
func (p *CutProxy) Restore() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalled {
		p.stalled = false
		closeAll(p.clients)
	}
	if p.ln != nil {
		return
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("cut proxy: listen again on %s: %v", p.addr, err)
	}
	p.serveLocked(ln)
}

func closeAll(conns map[net.Conn]struct{}) {
	for c := range conns {
		_ = c.Close()
	}
	clear(conns)
}

func (p *CutProxy) serveLocked(ln net.Listener) {
	p.ln = ln
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by Cut
			}
			p.wg.Go(func() { p.forward(ln, c) })
		}
	})
}

// forward copies between c and a new connection to the target until
// either side ends, Cut drops both or Stall the target's.
func (p *CutProxy) forward(ln net.Listener, c net.Conn) {
	p.mu.Lock()
	ok, stalled := p.ln == ln, p.stalled
	if ok {
		p.clients[c] = struct{}{}
	}
	p.mu.Unlock()
	switch {
	case !ok:
		_ = c.Close()
		return
	case stalled:
		return // held open, unanswered, until Restore or Cut closes it
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		p.drop(c)
		return
	}
	p.mu.Lock()
	if p.ln != ln || p.stalled {
		p.mu.Unlock()
		_ = up.Close()
		return // c was dropped by Cut, or is held by Stall
	}
	p.ups[up] = struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
	p.drop(up)
	p.mu.Lock()
	stalled = p.stalled
	p.mu.Unlock()
	if !stalled {
		p.drop(c) // else c stays open and silent until Restore or Cut
	}
	<-done
}

// drop closes c and forgets it.
func (p *CutProxy) drop(c net.Conn) {
	_ = c.Close()
	p.mu.Lock()
	delete(p.clients, c)
	delete(p.ups, c)
	p.mu.Unlock()
}
