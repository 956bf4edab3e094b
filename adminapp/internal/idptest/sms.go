package idptest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// SMS is one text message the provider sent.
type SMS struct {
	To   string `json:"to"` // E.164
	Body string `json:"body"`
}

// SMSBox is an SMS gateway in this process: an HTTP webhook on 127.0.0.1
// that takes the provider's JSON {"to", "body"} (IDP_SMS_URL, plain http
// being allowed to a loopback address) with its bearer token
// (IDP_SMS_TOKEN), and keeps every message.
type SMSBox struct {
	srv   *httptest.Server
	token string

	mu       sync.Mutex
	messages []SMS
	arrived  chan struct{}
}

// NewSMSBox starts the webhook with a random token.
func NewSMSBox() (*SMSBox, error) {
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	b := &SMSBox{token: hex.EncodeToString(tok), arrived: make(chan struct{}, 1)}
	b.srv = httptest.NewServer(http.HandlerFunc(b.receive))
	return b, nil
}

// Env is the provider's settings for this gateway.
func (b *SMSBox) Env() []string {
	return []string{"IDP_SMS_URL=" + b.srv.URL + "/sms", "IDP_SMS_TOKEN=" + b.token}
}

// Close stops the webhook.
func (b *SMSBox) Close() { b.srv.Close() }

func (b *SMSBox) receive(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	if r.Method != http.MethodPost || r.URL.Path != "/sms" ||
		subtle.ConstantTimeCompare([]byte(auth), []byte("Bearer "+b.token)) != 1 {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	var m SMS
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil || json.Unmarshal(body, &m) != nil || m.To == "" {
		http.Error(w, "bad SMS", http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	b.messages = append(b.messages, m)
	b.mu.Unlock()
	select {
	case b.arrived <- struct{}{}:
	default:
	}
	w.WriteHeader(http.StatusAccepted)
}

// Messages returns every SMS received so far.
func (b *SMSBox) Messages() []SMS {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]SMS(nil), b.messages...)
}

// To returns the SMS to number (E.164) whose body contains text.
func (b *SMSBox) To(number, text string) []SMS {
	var out []SMS
	for _, m := range b.Messages() {
		if m.To == number && strings.Contains(m.Body, text) {
			out = append(out, m)
		}
	}
	return out
}

// Wait returns the n-th SMS (1-based) to number whose body contains text,
// waiting up to timeout.
func (b *SMSBox) Wait(number, text string, n int, timeout time.Duration) (SMS, error) {
	deadline := time.After(timeout)
	for {
		if got := b.To(number, text); len(got) >= n {
			return got[n-1], nil
		}
		select {
		case <-b.arrived:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			return SMS{}, fmt.Errorf("idptest: no SMS #%d to %s containing %q within %v (got %d)", n, number, text, timeout, len(b.To(number, text)))
		}
	}
}
