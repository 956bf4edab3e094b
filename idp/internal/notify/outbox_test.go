package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/keys"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// captureStore keeps what Enqueue hands the store. Only EnqueueMessage is
// implemented; the outbox calls nothing else.
type captureStore struct {
	storage.Storage
	got []storage.Message
}

func (c *captureStore) EnqueueMessage(_ context.Context, m storage.Message) (int64, error) {
	c.got = append(c.got, m)
	return int64(len(c.got)), nil
}

func TestOutboxSealsAndOpens(t *testing.T) {
	ob, err := NewOutbox(testKEK)
	if err != nil {
		t.Fatal(err)
	}
	e := testEmail(t, "https://id.example.com/reset?token=sealed-token")
	st := &captureStore{}
	if err := ob.Enqueue(t.Context(), st, e); err != nil {
		t.Fatal(err)
	}
	m := st.got[0]
	if m.Channel != ChannelEmail || m.To != e.To || m.Status != "" {
		t.Errorf("enqueued %v", m)
	}
	if bytes.Contains(m.Body, []byte("sealed-token")) || bytes.Contains(m.Body, []byte(e.Subject)) {
		t.Fatal("the body is not sealed")
	}
	got, err := ob.Open(m)
	if err != nil || got != e {
		t.Fatalf("Open = %+v, %v; want the email back", got, err)
	}

	other, _ := NewOutbox(bytes.Repeat([]byte{9}, 32))
	if _, err := other.Open(m); !errors.Is(err, keys.ErrWrongKEK) {
		t.Errorf("Open under another KEK = %v, want ErrWrongKEK", err)
	}
	moved := m
	moved.To = "mallory@example.com"
	if _, err := ob.Open(moved); !errors.Is(err, keys.ErrWrongKEK) {
		t.Errorf("Open of a body moved to another recipient = %v, want ErrWrongKEK", err)
	}
	sent := m
	sent.Body = nil
	if _, err := ob.Open(sent); err == nil {
		t.Error("Open of a sent message (no body) succeeded")
	}
	sms := m
	sms.Channel = "sms"
	if _, err := ob.Open(sms); err == nil {
		t.Error("Open of an SMS as an email succeeded")
	}
}

func TestOutboxEnqueueRejects(t *testing.T) {
	ob, _ := NewOutbox(testKEK)
	good := testEmail(t, "https://id.example.com/x")
	for name, edit := range map[string]func(*Email){
		"no recipient":     func(e *Email) { e.To = "" },
		"display name":     func(e *Email) { e.To = "Dana <dana@example.com>" },
		"two recipients":   func(e *Email) { e.To = "a@example.com, b@example.com" },
		"header injection": func(e *Email) { e.To = "a@example.com\r\nBcc: b@example.com" },
		"no subject":       func(e *Email) { e.Subject = "" },
		"no text":          func(e *Email) { e.Text = "" },
	} {
		e := good
		edit(&e)
		st := &captureStore{}
		if err := ob.Enqueue(t.Context(), st, e); err == nil || len(st.got) != 0 {
			t.Errorf("%s: Enqueue = %v with %d stored, want an error and nothing stored", name, err, len(st.got))
		}
	}
	if out := fmt.Sprintf("%v %+v %#v %v", ob, ob, *ob, ob.LogValue()); strings.ContainsAny(out, "0123456789") {
		t.Errorf("the outbox shows its key: %s", out)
	}
	if _, err := NewOutbox([]byte("short")); err == nil {
		t.Error("NewOutbox accepted a short KEK")
	}
}

func TestEmailLogValueHidesParts(t *testing.T) {
	e := testEmail(t, "https://id.example.com/reset?token=log-value")
	if s := e.LogValue().String(); strings.Contains(s, "log-value") || !strings.Contains(s, e.To) {
		t.Errorf("LogValue = %s", s)
	}
}

func TestDefaultBackoff(t *testing.T) {
	for attempt := 1; attempt <= 12; attempt++ {
		base := min(30*time.Second<<min(attempt-1, 10), time.Hour)
		for range 20 {
			d := DefaultBackoff(attempt)
			if d > base || d < base*4/5 {
				t.Fatalf("DefaultBackoff(%d) = %v, want within [%v, %v]", attempt, d, base*4/5, base)
			}
		}
	}
	if d := DefaultBackoff(100); d > time.Hour {
		t.Errorf("DefaultBackoff(100) = %v, want at most an hour", d)
	}
}

func TestSanitizeError(t *testing.T) {
	e := testEmail(t, "https://id.example.com/reset?token=echoed")
	err := errors.New("smtp 127.0.0.1:25: 554 rejected\r\n  content https://id.example.com/reset?token=echoed\nwas: " + e.Text)
	got := sanitizeError(err, e)
	if strings.ContainsAny(got, "\r\n") || strings.Contains(got, "echoed") || !strings.Contains(got, "554 rejected") {
		t.Errorf("sanitizeError = %q", got)
	}
	long := errors.New(strings.Repeat("é", 600))
	if got := sanitizeError(long, Email{}); len(got) > maxErrorLen+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("long error kept %d bytes", len(got))
	}
}
