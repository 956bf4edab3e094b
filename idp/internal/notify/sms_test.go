package notify

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/config"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

const (
	testSMSToken  = "sms-bearer-t0ken"
	testSID       = "AC0123456789abcdef"
	testTwilioKey = "twilio-auth-t0ken"
	testFromPhone = "+14155550100"
)

// gateway is a real HTTP server standing in for an SMS gateway (the
// operator's webhook or a Twilio-compatible API): it records every request
// and answers with the statuses queued in answers (then 2xx).
type gateway struct {
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []gatewayRequest
	answers []int
	ok      int           // the status once answers run out
	stall   time.Duration // hold each request this long before answering
}

type gatewayRequest struct {
	method, path, contentType, auth string
	user, pass                      string
	basic                           bool
	body                            []byte
}

func newGateway(t *testing.T, ok int, answers ...int) *gateway {
	t.Helper()
	g := &gateway{answers: answers, ok: ok}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		user, pass, basic := r.BasicAuth()
		g.mu.Lock()
		g.reqs = append(g.reqs, gatewayRequest{method: r.Method, path: r.URL.Path, contentType: r.Header.Get("Content-Type"),
			auth: r.Header.Get("Authorization"), user: user, pass: pass, basic: basic, body: body})
		status := g.ok
		if len(g.answers) > 0 {
			status, g.answers = g.answers[0], g.answers[1:]
		}
		stall := g.stall
		g.mu.Unlock()
		if stall > 0 {
			select {
			case <-time.After(stall):
			case <-r.Context().Done():
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		// Gateways echo what they got; nothing of it may reach our errors.
		_, _ = w.Write([]byte(`{"message":"echo ` + strings.ReplaceAll(string(body), `"`, `'`) + `"}`))
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gateway) requests() []gatewayRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]gatewayRequest(nil), g.reqs...)
}

func (g *gateway) webhook(t *testing.T) *WebhookSender {
	t.Helper()
	s, err := NewWebhookSender(g.srv.URL+"/hooks/sms", testSMSToken)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (g *gateway) twilio(t *testing.T) *TwilioSender {
	t.Helper()
	s, err := NewTwilioSender("twilio://"+testSID+":"+testTwilioKey+"@"+testFromPhone, g.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var testSMS = SMS{To: "+14155550123", Body: "CliniConnects code: 482913. It expires in 10 minutes."}

// enqueueSMS queues s in a transaction and returns its message ID.
func (k *kit) enqueueSMS(t *testing.T, s SMS) int64 {
	t.Helper()
	err := k.store.InTx(t.Context(), func(tx storage.Storage) error { return k.outbox.EnqueueSMS(t.Context(), tx, s) })
	if err != nil {
		t.Fatalf("enqueue SMS: %v", err)
	}
	msgs := k.list(t, "")
	return msgs[len(msgs)-1].ID
}

// smsWorker is k's worker with sms as its SMS sender.
func (k *kit) smsWorker(t *testing.T, sms SMSSender) *Worker {
	w := k.worker(t, k.store)
	w.SMS = sms
	return w
}

func checkWebhookRequest(t *testing.T, r gatewayRequest, want SMS) {
	t.Helper()
	if r.method != http.MethodPost || r.path != "/hooks/sms" || r.contentType != "application/json" {
		t.Fatalf("webhook got %s %s (%s), want POST /hooks/sms application/json", r.method, r.path, r.contentType)
	}
	if r.auth != "Bearer "+testSMSToken {
		t.Fatalf("Authorization %q, want the bearer token", r.auth)
	}
	var got map[string]string
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatalf("webhook body %s: %v", r.body, err)
	}
	if len(got) != 2 || got["to"] != want.To || got["body"] != want.Body {
		t.Fatalf("webhook body %s, want exactly {to, body} of %+v", r.body, want)
	}
}

func checkTwilioRequest(t *testing.T, r gatewayRequest, want SMS) {
	t.Helper()
	if r.method != http.MethodPost || r.path != "/2010-04-01/Accounts/"+testSID+"/Messages.json" {
		t.Fatalf("Twilio API got %s %s", r.method, r.path)
	}
	if r.contentType != "application/x-www-form-urlencoded" {
		t.Fatalf("Content-Type %q, want a form", r.contentType)
	}
	if !r.basic || r.user != testSID || r.pass != testTwilioKey {
		t.Fatalf("basic auth %v %q, want the account SID and auth token", r.basic, r.user)
	}
	form, err := url.ParseQuery(string(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if form.Get("To") != want.To || form.Get("From") != testFromPhone || form.Get("Body") != want.Body || len(form) != 3 {
		t.Fatalf("form %v, want To, From, Body of %+v", form, want)
	}
}

// The webhook and the Twilio-compatible API: delivered on 2xx through the
// outbox, retried with back-off on 503 and 429, and the stored error never
// shows the code.
func TestSMSSendersRetryThroughOutbox(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ok     int
		sender func(t *testing.T, g *gateway) SMSSender
		check  func(t *testing.T, r gatewayRequest, want SMS)
	}{
		{"webhook", http.StatusOK, func(t *testing.T, g *gateway) SMSSender { return g.webhook(t) }, checkWebhookRequest},
		{"twilio", http.StatusCreated, func(t *testing.T, g *gateway) SMSSender { return g.twilio(t) }, checkTwilioRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, k *kit) {
				g := newGateway(t, tc.ok, http.StatusServiceUnavailable, http.StatusTooManyRequests)
				w := k.smsWorker(t, tc.sender(t, g))
				id := k.enqueueSMS(t, testSMS)
				if raw := k.rawBody(t, id); bytes.Contains(raw, []byte("482913")) || bytes.Contains(raw, []byte("CliniConnects")) {
					t.Fatal("the stored SMS body is readable")
				}

				now := k.clock.Now()
				if n := runOnce(t, w); n != 0 {
					t.Fatalf("sent %d on a 503", n)
				}
				m := k.message(t, id)
				if m.Status != storage.MessagePending || m.Attempts != 1 || !m.NextAttemptAt.Equal(now.Add(time.Minute)) {
					t.Fatalf("after a 503: %+v", m)
				}
				if !strings.Contains(m.LastError, "503") || strings.Contains(m.LastError, "482913") || strings.Contains(m.LastError, "expires") {
					t.Fatalf("last error %q: want the status and not the SMS", m.LastError)
				}
				k.clock.Advance(time.Minute)
				runOnce(t, w)
				if m := k.message(t, id); m.Status != storage.MessagePending || m.Attempts != 2 || !strings.Contains(m.LastError, "429") {
					t.Fatalf("after a 429: %+v", m)
				}
				k.clock.Advance(2 * time.Minute)
				if n := runOnce(t, w); n != 1 {
					t.Fatalf("sent %d once the gateway answers %d", n, tc.ok)
				}
				if m := k.message(t, id); m.Status != storage.MessageSent || m.Attempts != 3 || m.Body != nil {
					t.Fatalf("after delivery: %+v", m)
				}
				reqs := g.requests()
				if len(reqs) != 3 {
					t.Fatalf("gateway got %d requests, want 3", len(reqs))
				}
				for _, r := range reqs {
					tc.check(t, r, testSMS)
				}
				if logs := k.logs.String(); strings.Contains(logs, "482913") || strings.Contains(logs, testSMSToken) || strings.Contains(logs, testTwilioKey) {
					t.Fatalf("the code or a credential reached the log:\n%s", logs)
				}
			})
		})
	}
}

// Any other 4xx fails the message for good at once.
func TestSMSGatewayRefusalIsPermanent(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			eachBackend(t, func(t *testing.T, k *kit) {
				for name, sender := range map[string]func(g *gateway) SMSSender{
					"webhook": func(g *gateway) SMSSender { return g.webhook(t) },
					"twilio":  func(g *gateway) SMSSender { return g.twilio(t) },
				} {
					g := newGateway(t, status)
					w := k.smsWorker(t, sender(g))
					id := k.enqueueSMS(t, testSMS)
					runOnce(t, w)
					m := k.message(t, id)
					if m.Status != storage.MessageFailed || m.Attempts != 1 || !strings.Contains(m.LastError, strconv.Itoa(status)) {
						t.Fatalf("%s answering %d: %+v, want failed after one attempt", name, status, m)
					}
					k.clock.Advance(time.Hour)
					runOnce(t, w)
					if n := len(g.requests()); n != 1 {
						t.Fatalf("%s: %d requests for a refused message, want 1", name, n)
					}
				}
			})
		})
	}
}

// A gateway that does not answer in time is tried again later.
func TestSMSGatewayTimeoutIsRetried(t *testing.T) {
	eachBackend(t, func(t *testing.T, k *kit) {
		g := newGateway(t, http.StatusOK)
		g.stall = 5 * time.Second
		w := k.smsWorker(t, g.webhook(t))
		w.Lease = 400 * time.Millisecond // a send gets half the lease
		id := k.enqueueSMS(t, testSMS)
		runOnce(t, w)
		m := k.message(t, id)
		if m.Status != storage.MessagePending || m.Attempts != 1 || !strings.Contains(m.LastError, "timed out") {
			t.Fatalf("after a timeout: %+v", m)
		}
		g.mu.Lock()
		g.stall = 0
		g.mu.Unlock()
		k.clock.Advance(time.Minute)
		if n := runOnce(t, w); n != 1 {
			t.Fatalf("sent %d once the gateway answers", n)
		}
	})
}

// One worker, two channels: emails go to the mail sender, SMS to the SMS
// sender; with no SMS gateway an SMS fails for good.
func TestWorkerDispatchesByChannel(t *testing.T) {
	eachBackend(t, func(t *testing.T, k *kit) {
		g := newGateway(t, http.StatusOK)
		w := k.smsWorker(t, g.webhook(t))
		e, _ := k.enqueue(t, "dana@example.com", "tok-dispatch")
		k.enqueueSMS(t, testSMS)
		if n := runOnce(t, w); n != 2 {
			t.Fatalf("sent %d, want 2", n)
		}
		if got := k.smtp.messages(); len(got) != 1 {
			t.Fatalf("SMTP server got %d messages, want the email", len(got))
		} else {
			checkDelivered(t, got[0], e, "https://id.example.com/reset?token=tok-dispatch")
		}
		if reqs := g.requests(); len(reqs) != 1 {
			t.Fatalf("SMS gateway got %d requests, want the SMS", len(reqs))
		} else {
			checkWebhookRequest(t, reqs[0], testSMS)
		}

		w.SMS = nil
		id := k.enqueueSMS(t, testSMS)
		runOnce(t, w)
		if m := k.message(t, id); m.Status != storage.MessageFailed || !strings.Contains(m.LastError, "IDP_SMS_URL") {
			t.Fatalf("SMS without a gateway: %+v", m)
		}
	})
}

func TestOutboxSMSSealsAndOpens(t *testing.T) {
	ob, err := NewOutbox(testKEK)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := ob.SealSMS(testSMS)
	if err != nil {
		t.Fatal(err)
	}
	m := storage.Message{ID: 1, Channel: ChannelSMS, To: testSMS.To, Body: sealed}
	got, err := ob.OpenSMS(m)
	if err != nil || got != testSMS {
		t.Fatalf("OpenSMS = %+v, %v", got, err)
	}
	if _, err := ob.Open(m); err == nil {
		t.Fatal("Open accepted an SMS as an email")
	}
	m.To = "+14155550199"
	if _, err := ob.OpenSMS(m); err == nil {
		t.Fatal("a body moved to another recipient opened")
	}
	for _, bad := range []SMS{
		{To: "14155550123", Body: "x"}, {To: "+1 415 555 0123", Body: "x"}, {To: "", Body: "x"},
		{To: testSMS.To, Body: ""}, {To: testSMS.To, Body: strings.Repeat("x", MaxSMSLength+1)}, {To: testSMS.To, Body: "\xff"},
	} {
		if _, err := ob.SealSMS(bad); err == nil {
			t.Errorf("SealSMS(%q, %d chars) accepted", bad.To, len(bad.Body))
		}
	}
	if s := slogText(testSMS); strings.Contains(s, "482913") {
		t.Fatalf("SMS logs its body: %s", s)
	}
}

func slogText(v any) string {
	var b bytes.Buffer
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "v", v)
	return b.String()
}

func TestFileSMSSender(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sms")
	var logs bytes.Buffer
	f := &FileSMSSender{Dir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	if err := f.SendSMS(t.Context(), testSMS); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("files: %v %v", entries, err)
	}
	path := filepath.Join(dir, entries[0].Name())
	info, _ := os.Stat(path)
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", info.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	var got SMS
	if err := json.Unmarshal(b, &got); err != nil || got != testSMS {
		t.Fatalf("file %s: %+v %v", b, got, err)
	}
	if !strings.Contains(logs.String(), path) || strings.Contains(logs.String(), "482913") {
		t.Fatalf("log %q: want the path and not the code", logs.String())
	}
}

func TestNewSMSSender(t *testing.T) {
	load := func(env map[string]string) config.Config {
		t.Helper()
		c, err := config.Load(func(k string) string { return env[k] }, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	s, err := NewSMSSender(load(map[string]string{"IDP_DATA_DIR": "/tmp/d"}), nil)
	if fs, ok := s.(*FileSMSSender); err != nil || !ok || fs.Dir != "/tmp/d/sms" {
		t.Fatalf("loopback default: %T %v", s, err)
	}
	s, err = NewSMSSender(load(map[string]string{"IDP_ISSUER": "https://id.example.com", "IDP_SMTP_URL": "smtp://mail.example.com:587"}), nil)
	if err != nil || s != nil {
		t.Fatalf("https issuer without IDP_SMS_URL: %T %v, want none", s, err)
	}
	s, err = NewSMSSender(load(map[string]string{"IDP_ISSUER": "https://id.example.com", "IDP_MAIL_FILE": "true"}), nil)
	if _, ok := s.(*FileSMSSender); err != nil || !ok {
		t.Fatalf("https issuer with IDP_MAIL_FILE: %T %v, want files", s, err)
	}
	s, err = NewSMSSender(load(map[string]string{"IDP_SMS_URL": "https://sms.example.com/s3cret-path", "IDP_SMS_TOKEN": testSMSToken}), nil)
	if _, ok := s.(*WebhookSender); err != nil || !ok {
		t.Fatalf("webhook: %T %v", s, err)
	}
	if txt := slogText(s) + s.(*WebhookSender).String(); strings.Contains(txt, testSMSToken) || strings.Contains(txt, "s3cret-path") {
		t.Fatalf("webhook sender shows its token or path: %s", txt)
	}
	s, err = NewSMSSender(load(map[string]string{"IDP_SMS_URL": "twilio://" + testSID + ":" + testTwilioKey + "@" + testFromPhone}), nil)
	if _, ok := s.(*TwilioSender); err != nil || !ok {
		t.Fatalf("twilio: %T %v", s, err)
	}
	if txt := slogText(s) + s.(*TwilioSender).String(); strings.Contains(txt, testTwilioKey) || !strings.Contains(txt, testSID) {
		t.Fatalf("Twilio sender: %s", txt)
	}
	for _, bad := range [][2]string{
		{"http://sms.example.com/", testSMSToken}, {"https://sms.example.com/", ""}, {"https://u:p@sms.example.com/", "t"},
	} {
		if _, err := NewWebhookSender(bad[0], bad[1]); err == nil {
			t.Errorf("NewWebhookSender(%q) accepted", bad[0])
		}
	}
	if _, err := NewTwilioSender("twilio://"+testSID+":"+testTwilioKey+"@"+testFromPhone, "http://api.example.com"); err == nil {
		t.Error("a Twilio base URL over plain http accepted")
	}
	if _, err := NewTwilioSender("twilio://"+testSID+"@"+testFromPhone, ""); err == nil || strings.Contains(err.Error(), testTwilioKey) {
		t.Errorf("twilio URL without token: %v", err)
	}
}

func TestPermanent(t *testing.T) {
	base := errors.New("refused")
	if !IsPermanent(Permanent(base)) || !errors.Is(Permanent(base), base) || IsPermanent(base) {
		t.Fatal("Permanent does not mark and wrap")
	}
	got := sanitizeParts(errors.New("code 482913 to +14155550123 refused (503): https://x.example/a?t=1"), true)
	if strings.Contains(got, "482913") || strings.Contains(got, "4155550123") || strings.Contains(got, "https://") || !strings.Contains(got, "503") {
		t.Fatalf("sanitizeParts = %q", got)
	}
}
