package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/config"
	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/server"
	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// mailbox is a real SMTP server (emersion/go-smtp) in the test process on
// 127.0.0.1, receiving what the provider's go-mail sender delivers. It can
// be taken down and brought back on the same port.
type mailbox struct {
	t    *testing.T
	addr string

	mu       sync.Mutex
	srv      *smtp.Server
	ln       net.Listener
	received []email
	arrived  chan struct{} // signalled (non-blocking) on every message
}

// email is one message the server accepted, parsed.
type email struct {
	To      string
	Subject string
	Text    string // the decoded text/plain part
}

func newMailbox(t *testing.T) *mailbox {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &mailbox{t: t, addr: l.Addr().String(), arrived: make(chan struct{}, 1)}
	m.serve(l)
	t.Cleanup(m.down)
	return m
}

func (m *mailbox) url() string { return "smtp://" + m.addr + "?starttls=none" }

func (m *mailbox) serve(l net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &mailSession{box: m}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	m.mu.Lock()
	m.srv, m.ln = srv, l
	m.mu.Unlock()
	go func() { _ = srv.Serve(l) }()
}

// down stops the server: connections are refused until up.
func (m *mailbox) down() {
	m.mu.Lock()
	srv, ln := m.srv, m.ln
	m.srv, m.ln = nil, nil
	m.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
	if srv != nil {
		_ = srv.Close()
	}
}

// up serves again on the same address.
func (m *mailbox) up() {
	m.t.Helper()
	var l net.Listener
	var err error
	for range 100 {
		if l, err = net.Listen("tcp", m.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		m.t.Fatalf("smtp server back on %s: %v", m.addr, err)
	}
	m.serve(l)
}

func (m *mailbox) all() []email {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]email(nil), m.received...)
}

// to lists the messages received for addr whose subject contains subject.
func (m *mailbox) to(addr, subject string) []email {
	var out []email
	for _, e := range m.all() {
		if strings.EqualFold(e.To, addr) && strings.Contains(e.Subject, subject) {
			out = append(out, e)
		}
	}
	return out
}

// wait returns the n-th (1-based) message for addr with subject, waiting
// up to 15s for it.
func (m *mailbox) wait(addr, subject string, n int) email {
	m.t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		if got := m.to(addr, subject); len(got) >= n {
			return got[n-1]
		}
		select {
		case <-m.arrived:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			m.t.Fatalf("no email %d to %s with subject %q; received: %+v", n, addr, subject, subjects(m.all()))
		}
	}
}

func subjects(es []email) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.To+": "+e.Subject)
	}
	return out
}

type mailSession struct {
	box *mailbox
	to  []string
}

func (s *mailSession) Reset()                                    { s.to = nil }
func (s *mailSession) Logout() error                             { return nil }
func (s *mailSession) Mail(string, *smtp.MailOptions) error      { return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = append(s.to, to); return nil }
func (s *mailSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	e, err := parseEmail(raw)
	if err != nil {
		s.box.t.Errorf("unparsable email: %v\n%s", err, raw)
		return err
	}
	if len(s.to) != 1 || !strings.EqualFold(s.to[0], e.To) {
		s.box.t.Errorf("envelope recipients %v, header To %s", s.to, e.To)
	}
	s.box.mu.Lock()
	s.box.received = append(s.box.received, e)
	s.box.mu.Unlock()
	select {
	case s.box.arrived <- struct{}{}:
	default:
	}
	return nil
}

// parseEmail reads the recipient, subject and text part of a message.
func parseEmail(raw []byte) (email, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return email{}, err
	}
	to, err := mail.ParseAddress(msg.Header.Get("To"))
	if err != nil {
		return email{}, err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return email{}, err
	}
	e := email{To: to.Address, Subject: subject}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return email{}, err
	}
	if !strings.HasPrefix(mt, "multipart/") {
		b, err := io.ReadAll(msg.Body)
		e.Text = string(b)
		return e, err
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // undoes quoted-printable
		if err != nil {
			return e, err
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			b, err := io.ReadAll(p)
			e.Text = string(b)
			return e, err
		}
	}
}

// link finds the one link to path under issuer in e's text.
func (e email) link(t *testing.T, issuer, path string) string {
	t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(issuer+path) + `\?token=[A-Za-z0-9_-]+`)
	links := re.FindAllString(e.Text, -1)
	if len(links) == 0 {
		t.Fatalf("no %s link in email %q:\n%s", path, e.Subject, e.Text)
	}
	for _, l := range links[1:] {
		if l != links[0] {
			t.Fatalf("two different links in one email: %v", links)
		}
	}
	return links[0]
}

// configured (IDP_SMTP_URL), with an injected clock.
type mailEnv struct {
	*env
	mail  *mailbox
	clock *testenv.ShiftedClock
	// accounts runs use cases the way the CLI and the admin API do: on the
	// same store and KEK, queueing mail that the server's worker delivers.
	accounts *account.Service
}

// newMailEnv starts a provider on a fresh store of b; logger, when given,
// gets the provider's logs.
func newMailEnv(t *testing.T, b backend, logger ...*slog.Logger) *mailEnv {
	t.Helper()
	log := testLogger()
	if len(logger) > 0 {
		log = logger[0]
	}
	return newMailEnvWith(t, b, log, nil)
}

// newMailEnvWith is newMailEnv with its logger, and with configure (when
// not nil) adjusting the configuration before the server starts.
func newMailEnvWith(t *testing.T, b backend, log *slog.Logger, configure func(*config.Config)) *mailEnv {
	t.Helper()
	me := &mailEnv{env: &env{t: t}, mail: newMailbox(t), clock: &testenv.ShiftedClock{}}
	e := me.env
	e.sw = &switchHandler{}
	e.srv = httptest.NewServer(e.sw)
	t.Cleanup(e.srv.Close)
	e.issuer = e.srv.URL
	e.kek = make([]byte, 32)
	_, _ = rand.Read(e.kek)
	e.cfg = testConfig(e.issuer)
	e.cfg.SMTPURL = me.mail.url()
	e.cfg.MailFrom = "CliniConnects Identity <no-reply@example.test>"
	e.cfg.ResetTTL = 30 * time.Minute
	e.cfg.InviteTTL = 7 * 24 * time.Hour
	e.cfg.EmailChangeTTL = 24 * time.Hour
	e.cfg.SessionTTL = 30 * 24 * time.Hour // outlives the clock jumps
	if configure != nil {
		configure(&e.cfg)
	}
	e.store = openStore(t, b.dsn(t))
	h, err := server.New(t.Context(), server.Deps{
		Config: e.cfg, Store: e.store, Logger: log, Now: me.clock.Now, KEK: e.kek,
		Hasher: cheapHasher, KeyBits: 2048, MailPoll: 25 * time.Millisecond, Admission: roomyAdmission,
	})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	e.sw.set(h)
	outbox, err := notify.NewOutbox(e.kek)
	if err != nil {
		t.Fatal(err)
	}
	me.accounts = &account.Service{
		Store: e.store, Hasher: cheapHasher, Policy: password.DefaultPolicy(), Logger: testLogger(), Now: me.clock.Now,
		Outbox: outbox, Issuer: e.issuer, InviteTTL: e.cfg.InviteTTL,
	}
	return me
}

// form posts values to path as b (with its cookies), following redirects
// within the provider.
func (b *browser) form(t *testing.T, path string, values url.Values) page {
	t.Helper()
	resp, err := b.c.PostForm(b.issuer+path, values)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return readPage(t, resp)
}

// noFollow is b without following redirects, sharing its cookies.
func (b *browser) noFollow() *browser {
	c := *b.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{c: &c, issuer: b.issuer}
}

// signInDirect signs in at /login without a client, as a user does to
// reach the account page, and reports whether it worked.
func (e *mailEnv) signInDirect(t *testing.T, b *browser, email, pw string) bool {
	t.Helper()
	p := b.noFollow().form(t, "/login", url.Values{"email": {email}, "password": {pw}})
	switch {
	case p.StatusCode == http.StatusSeeOther && p.Header.Get("Location") == "/account":
		return true
	case p.StatusCode == http.StatusUnauthorized && strings.Contains(p.body, "The email or password is incorrect."):
		return false
	}
	t.Fatalf("sign-in: status %d: %.400s", p.StatusCode, p.body)
	return false
}

// canSignIn tries email and pw in a fresh browser.
func (e *mailEnv) canSignIn(t *testing.T, email, pw string) bool {
	t.Helper()
	return e.signInDirect(t, e.browser(), email, pw)
}

// outbox lists every message in the store's outbox.
func (e *mailEnv) outbox(t *testing.T) []storage.Message {
	t.Helper()
	msgs, err := e.store.ListMessages(context.Background(), storage.MessageQuery{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// mustContain fails unless p has status and contains every text.
func mustContain(t *testing.T, what string, p page, status int, texts ...string) {
	t.Helper()
	if p.StatusCode != status {
		t.Fatalf("%s: status %d, want %d: %.600s", what, p.StatusCode, status, p.body)
	}
	for _, s := range texts {
		if !strings.Contains(p.body, s) {
			t.Fatalf("%s: page lacks %q: %.1500s", what, s, p.body)
		}
	}
}

// user stores an active employee with userPassword and a plain, unique
// address (Ada Lovelace).
func (e *mailEnv) user(t *testing.T) storage.User {
	t.Helper()
	h, err := cheapHasher.Hash(userPassword)
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.store.CreateUser(context.Background(), storage.User{
		Type: storage.UserTypeEmployee, GivenName: "Ada", FamilyName: "Lovelace",
		Email: "ada." + randHex(8) + "@example.com", EmailVerified: true, Status: storage.StatusActive, PasswordHash: h,
	})
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	return u
}
