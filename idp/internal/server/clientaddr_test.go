package server

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"direct client, no header", "203.0.113.9:5000", nil, "203.0.113.9:5000"},
		{"untrusted peer cannot spoof", "203.0.113.9:5000", []string{"198.51.100.1"}, "203.0.113.9:5000"},
		{"trusted proxy forwards the client", "10.0.0.2:443", []string{"198.51.100.1"}, "198.51.100.1:0"},
		{"forged left entries are ignored", "10.0.0.2:443", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1:0"},
		{"chain of trusted proxies", "10.0.0.2:443", []string{"198.51.100.1, 10.0.0.7", "10.0.0.3"}, "198.51.100.1:0"},
		{"IPv6 proxy, IPv4-mapped client", "[::1]:443", []string{"::ffff:198.51.100.1"}, "198.51.100.1:0"},
		{"malformed entry", "10.0.0.2:443", []string{"198.51.100.1, not-an-ip"}, "10.0.0.2:443"},
		{"only proxies in the chain", "10.0.0.2:443", []string{"10.0.0.5"}, "10.0.0.2:443"},
		{"trusted proxy without header", "10.0.0.2:443", nil, "10.0.0.2:443"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			h := clientAddr(trusted, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.RemoteAddr }))
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if got != tc.want {
				t.Fatalf("RemoteAddr = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestClientAddrOffByDefault(t *testing.T) {
	var got string
	h := clientAddr(nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.RemoteAddr }))
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.2:443"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if got != "10.0.0.2:443" {
		t.Fatalf("without trusted proxies RemoteAddr = %q", got)
	}
}
