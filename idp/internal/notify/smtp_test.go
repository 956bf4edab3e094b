package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/cliniconnects/identity/idp/internal/config"
)

const testFrom = "CliniConnects Identity <no-reply@id.example.com>"

// testEmail renders a password reset to dana@example.com with link.
func testEmail(t testing.TB, link string) Email {
	t.Helper()
	e, err := Render(KindPasswordReset, Data{
		Name: "Dana Whitfield", Link: link, Expires: 30 * time.Minute, ExpiresAt: time.Now().Add(30 * time.Minute),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.To = "dana@example.com"
	return e
}

// checkDelivered asserts that r is e as a mail client would see it.
func checkDelivered(t testing.TB, r received, e Email, link string) parsedMail {
	t.Helper()
	if r.From != "no-reply@id.example.com" || len(r.To) != 1 || r.To[0] != e.To {
		t.Errorf("envelope from %q to %v, want no-reply@id.example.com to %s", r.From, r.To, e.To)
	}
	m := parseMail(t, r.Data)
	if got := decodeHeader(t, m.Header.Get("From")); got != `"CliniConnects Identity" <no-reply@id.example.com>` && got != testFrom {
		t.Errorf("From %q", got)
	}
	if got := m.Header.Get("To"); !strings.Contains(got, e.To) {
		t.Errorf("To %q", got)
	}
	if got := decodeHeader(t, m.Header.Get("Subject")); got != e.Subject {
		t.Errorf("Subject %q, want %q", got, e.Subject)
	}
	if id := m.Header.Get("Message-Id"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@id.example.com>") {
		t.Errorf("Message-ID %q", id)
	}
	if _, err := m.Header.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	if !strings.Contains(m.Text, link) || !strings.Contains(m.Text, "Reset your password") && !strings.Contains(m.Text, "reset the password") {
		t.Errorf("text part lacks the link or the wording:\n%s", m.Text)
	}
	if !strings.Contains(m.HTML, `href="`+link+`"`) {
		t.Errorf("HTML part lacks the link:\n%s", m.HTML)
	}
	return m
}

func TestSMTPSenderPlainLoopbackWithAuth(t *testing.T) {
	srv := newSMTPServer(t, func(s *smtpServer) { s.user, s.password = "mailer", "s3cret-pw" })
	s, err := NewSMTPSender(srv.url(), testFrom)
	if err != nil {
		t.Fatal(err)
	}
	link := "https://id.example.com/reset?token=plain-loopback"
	e := testEmail(t, link)
	if err := s.Send(t.Context(), e); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.messages()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	checkDelivered(t, got[0], e, link)
	if len(srv.authed) != 1 || srv.authed[0] != "mailer" {
		t.Errorf("authenticated users %v, want [mailer]", srv.authed)
	}
}

func TestSMTPSenderSTARTTLS(t *testing.T) {
	cfg, pool := testTLS(t)
	srv := newSMTPServer(t, func(s *smtpServer) { s.tlsConfig, s.user, s.password = cfg, "mailer", "s3cret-pw" })
	s, err := NewSMTPSender(srv.url(), testFrom) // starttls=mandatory
	if err != nil {
		t.Fatal(err)
	}
	s.rootCAs = pool
	link := "https://id.example.com/reset?token=starttls"
	e := testEmail(t, link)
	if err := s.Send(t.Context(), e); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.messages()
	if len(got) != 1 || !got[0].TLS {
		t.Fatalf("received %d messages (TLS %v), want 1 over TLS", len(got), len(got) == 1 && got[0].TLS)
	}
	checkDelivered(t, got[0], e, link)
}

func TestSMTPSenderImplicitTLS(t *testing.T) {
	cfg, pool := testTLS(t)
	srv := newSMTPServer(t, func(s *smtpServer) { s.tlsConfig, s.implicitTLS, s.user, s.password = cfg, true, "mailer", "pw-123" })
	s, err := NewSMTPSender(srv.url(), testFrom)
	if err != nil {
		t.Fatal(err)
	}
	s.rootCAs = pool
	e := testEmail(t, "https://id.example.com/reset?token=smtps")
	if err := s.Send(t.Context(), e); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := srv.messages(); len(got) != 1 || !got[0].TLS {
		t.Fatalf("want one message over TLS, got %+v", got)
	}
}

func TestSMTPSenderUntrustedCertificateFails(t *testing.T) {
	cfg, _ := testTLS(t)
	srv := newSMTPServer(t, func(s *smtpServer) { s.tlsConfig = cfg })
	s, err := NewSMTPSender(srv.url(), testFrom)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), testEmail(t, "https://id.example.com/x")); err == nil {
		t.Fatal("Send trusted a self-signed certificate")
	}
	if n := len(srv.messages()); n != 0 {
		t.Fatalf("server received %d messages", n)
	}
}

func TestSMTPSenderMandatorySTARTTLSRefusesPlainServer(t *testing.T) {
	srv := newSMTPServer(t) // no TLS offered
	s, err := NewSMTPSender("smtp://"+srv.addr, testFrom)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(t.Context(), testEmail(t, "https://id.example.com/x"))
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("Send = %v, want a STARTTLS error", err)
	}
	if n := len(srv.messages()); n != 0 {
		t.Fatalf("server received %d messages in the clear", n)
	}
}

func TestCredentialsAuthNeedsTLSOffLoopback(t *testing.T) {
	a := &credentialsAuth{user: "u", password: "p"}
	if _, _, err := a.Start(&smtpServerInfo{Name: "mail.example.com", Auth: []string{"PLAIN"}}); err != errAuthNeedsTLS {
		t.Errorf("Start without TLS = %v, want errAuthNeedsTLS", err)
	}
	mech, _, err := a.Start(&smtpServerInfo{Name: "mail.example.com", TLS: true, Auth: []string{"LOGIN"}})
	if err != nil || mech != "LOGIN" {
		t.Errorf("Start over TLS = %q, %v; want LOGIN", mech, err)
	}
	loop := &credentialsAuth{user: "u", password: "p", loopback: true}
	if mech, _, err := loop.Start(&smtpServerInfo{Name: "127.0.0.1", Auth: []string{"LOGIN", "PLAIN"}}); err != nil || mech != "PLAIN" {
		t.Errorf("loopback Start = %q, %v; want PLAIN", mech, err)
	}
}

func TestNewSMTPSender(t *testing.T) {
	tests := []struct {
		url      string
		port     int
		implicit bool
		policy   gomail.TLSPolicy
		user     string
		wantErr  bool
	}{
		{url: "smtp://mail.example.com", port: 587, policy: gomail.TLSMandatory},
		{url: "smtp://mail.example.com:2525?starttls=opportunistic", port: 2525, policy: gomail.TLSOpportunistic},
		{url: "smtp://127.0.0.1:25?starttls=none", port: 25, policy: gomail.NoTLS},
		{url: "smtp://u:p%40ss@localhost?starttls=none", port: 587, policy: gomail.NoTLS, user: "u"},
		{url: "smtps://u:pw@mail.example.com", port: 465, implicit: true, user: "u"},
		{url: "smtps://mail.example.com:4650", port: 4650, implicit: true},
		{url: "smtp://u:pw@mail.example.com?starttls=none", wantErr: true}, // credentials in the clear
		{url: "smtp://mail.example.com?starttls=sometimes", wantErr: true},
		{url: "http://mail.example.com", wantErr: true},
		{url: "smtp://mail.example.com:0", wantErr: true},
	}
	for _, tc := range tests {
		s, err := NewSMTPSender(tc.url, testFrom)
		if tc.wantErr {
			if err == nil {
				t.Errorf("%s: no error", tc.url)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if s.port != tc.port || s.implicit != tc.implicit || (!tc.implicit && s.policy != tc.policy) || s.user != tc.user {
			t.Errorf("%s: port %d implicit %v policy %v user %q", tc.url, s.port, s.implicit, s.policy, s.user)
		}
	}
	s, err := NewSMTPSender("smtps://u:hunter22@mail.example.com", testFrom)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "smtp", s)
	if out := logs.String() + fmt.Sprint(s) + fmt.Sprintf("%+v %#v", s, *s); strings.Contains(out, "hunter22") {
		t.Errorf("the password shows in %s", out)
	}
	_, err = NewSMTPSender("smtp://u:hunter22@mail.example.com?starttls=none", testFrom)
	if err == nil || strings.Contains(err.Error(), "hunter22") {
		t.Errorf("error %v must exist and not show the password", err)
	}
}

func TestSMTPSenderErrorHasNoPassword(t *testing.T) {
	srv := newSMTPServer(t, func(s *smtpServer) { s.user, s.password = "mailer", "right-password" })
	srv.down()
	s, err := NewSMTPSender("smtp://mailer:wrong-password@"+srv.addr+"?starttls=none", testFrom)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	err = s.Send(ctx, testEmail(t, "https://id.example.com/x"))
	if err == nil || strings.Contains(err.Error(), "wrong-password") {
		t.Fatalf("Send = %v", err)
	}
	srv.up()
	err = s.Send(ctx, testEmail(t, "https://id.example.com/x"))
	if err == nil || strings.Contains(err.Error(), "wrong-password") {
		t.Fatalf("Send with bad credentials = %v", err)
	}
	if n := len(srv.messages()); n != 0 {
		t.Fatalf("server received %d messages without authentication", n)
	}
}

func TestNewSender(t *testing.T) {
	cfg := config.Config{DataDir: t.TempDir(), MailFrom: testFrom, Issuer: "http://localhost:8080"}
	s, err := NewSender(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	fs, ok := s.(*FileSender)
	if !ok || fs.Dir != cfg.DataDir+"/mail" || fs.Issuer != cfg.Issuer || fs.From != testFrom {
		t.Fatalf("NewSender without SMTP = %#v, want a FileSender into <data>/mail", s)
	}
	cfg.SMTPURL = "smtps://u:p@mail.example.com"
	s, err = NewSender(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ss, ok := s.(*SMTPSender); !ok || ss.addr() != "mail.example.com:465" {
		t.Fatalf("NewSender with SMTP = %#v", s)
	}
}

// Links in .eml files and in the log sign people in: a provider others can
// reach must send them by SMTP, unless development is said explicitly.
func TestNewSenderRefusesFilesForAReachableIssuer(t *testing.T) {
	for _, tc := range []struct {
		issuer   string
		mailFile bool
		ok       bool
	}{
		{"http://localhost:8080", false, true},
		{"http://127.0.0.1:8080", false, true},
		{"http://[::1]:8080", false, true},
		{"https://id.example.com", false, false},
		{"https://10.0.0.7", false, false},
		{"https://localhost.example.com", false, false},
		{"https://id.example.com", true, true},
	} {
		cfg := config.Config{DataDir: t.TempDir(), MailFrom: testFrom, Issuer: tc.issuer, MailFile: tc.mailFile}
		s, err := NewSender(cfg, nil)
		if tc.ok {
			if _, isFile := s.(*FileSender); err != nil || !isFile {
				t.Errorf("issuer %s, IDP_MAIL_FILE=%v: %#v, %v; want a FileSender", tc.issuer, tc.mailFile, s, err)
			}
			continue
		}
		if !errors.Is(err, ErrFileMailRefused) || s != nil {
			t.Errorf("issuer %s without IDP_SMTP_URL: %#v, %v; want ErrFileMailRefused", tc.issuer, s, err)
		}
	}
}

// smtpServerInfo is go-mail's view of a server, for driving
// credentialsAuth directly.
type smtpServerInfo = smtp.ServerInfo
