package notify

import (
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	gomail "github.com/wneessen/go-mail"
)

// composeService returns the lines of one service of docker-compose.yml.
func composeService(t *testing.T, compose, name string) []string {
	t.Helper()
	var out []string
	in := false
	for _, line := range strings.Split(compose, "\n") {
		switch {
		case line == "  "+name+":":
			in = true
		case in && len(line) > 2 && line[2] != ' ' && line[2] != '#':
			return out // the next service
		case in && line != "" && !strings.HasPrefix(line, "    "):
			return out // the next top-level key
		case in:
			out = append(out, line)
		}
	}
	if !in {
		t.Fatalf("docker-compose.yml has no service %s", name)
	}
	return out
}

// The compose stack's mail catcher is reachable from this machine only
// (its UI shows every email, and emails carry sign-in links), and the idp's
// IDP_SMTP_URL — the exact string in docker-compose.yml — delivers to an
// SMTP server that, like Mailpit without a certificate, offers no
// STARTTLS. With the default (STARTTLS mandatory) nothing would arrive.
func TestComposeMailpit(t *testing.T) {
	b, err := os.ReadFile("../../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	compose := string(b)

	ports := 0
	for _, line := range composeService(t, compose, "mailpit") {
		m := regexp.MustCompile(`^\s+- "?([^"#\s]+)"?`).FindStringSubmatch(line)
		if m == nil || !strings.Contains(m[1], ":") {
			continue
		}
		ports++
		if !strings.HasPrefix(m[1], "127.0.0.1:") {
			t.Errorf("mailpit publishes %s on every interface; want 127.0.0.1:…", m[1])
		}
	}
	if ports != 2 {
		t.Errorf("mailpit publishes %d ports, want 2 (SMTP and UI)", ports)
	}

	var raw string
	for _, line := range composeService(t, compose, "idp") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "IDP_SMTP_URL:"); ok {
			raw = strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	if raw == "" {
		t.Fatal("the idp service sets no IDP_SMTP_URL")
	}
	s, err := NewSMTPSender(raw, testFrom)
	if err != nil {
		t.Fatalf("IDP_SMTP_URL %q: %v", raw, err)
	}
	if s.host != "mailpit" || s.port != 1025 || s.implicit || s.policy == gomail.TLSMandatory {
		t.Fatalf("IDP_SMTP_URL %q: host %s port %d implicit TLS %v policy %v; want mailpit:1025 without mandatory STARTTLS",
			raw, s.host, s.port, s.implicit, s.policy)
	}

	// Deliver with exactly these settings to a server without STARTTLS.
	srv := newSMTPServer(t)
	host, port, _ := net.SplitHostPort(srv.addr)
	s.host = host
	if s.port, err = strconv.Atoi(port); err != nil {
		t.Fatal(err)
	}
	link := "http://localhost:8080/invite?token=compose"
	e := testEmail(t, link)
	if err := s.Send(t.Context(), e); err != nil {
		t.Fatalf("Send with the compose settings to a server without STARTTLS: %v", err)
	}
	got := srv.messages()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	checkDelivered(t, got[0], e, link)
}
