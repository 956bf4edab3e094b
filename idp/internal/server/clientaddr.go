package server

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// clientAddr sets r.RemoteAddr to the client's address when the connection
// comes from a trusted proxy: the right-most X-Forwarded-For entry that is
// not itself a trusted proxy (entries left of it could be forged by the
// client). Per-source throttling and the audit log read RemoteAddr, so only
// trusted peers may change it; a request from anyone else keeps its peer
// address whatever headers it sends.
func clientAddr(trusted []netip.Prefix, next http.Handler) http.Handler {
	if len(trusted) == 0 {
		return next
	}
	isTrusted := func(a netip.Addr) bool {
		return slices.ContainsFunc(trusted, func(p netip.Prefix) bool { return p.Contains(a.Unmap()) })
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if peer, err := netip.ParseAddrPort(r.RemoteAddr); err == nil && isTrusted(peer.Addr()) {
			if client, ok := forwardedClient(r.Header.Values("X-Forwarded-For"), isTrusted); ok {
				r2 := r.Clone(r.Context())
				r2.RemoteAddr = net.JoinHostPort(client.String(), "0")
				r = r2
			}
		}
		next.ServeHTTP(w, r)
	})
}

// forwardedClient walks the X-Forwarded-For chain from the right and returns
// the first address that is not a trusted proxy. A malformed entry ends the
// walk: nothing left of it can be believed.
func forwardedClient(headers []string, isTrusted func(netip.Addr) bool) (netip.Addr, bool) {
	var hops []string
	for _, h := range headers {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return netip.Addr{}, false
		}
		if !isTrusted(a) {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}
