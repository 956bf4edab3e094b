package idptest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one email the provider sent.
type Message struct {
	To      string // the one envelope recipient
	Subject string
	Text    string // the text/plain part, decoded
}

// Mailbox is an SMTP server on 127.0.0.1 that keeps every message.
type Mailbox struct {
	srv *smtp.Server
	ln  net.Listener

	mu       sync.Mutex
	messages []Message
	arrived  chan struct{}
}

// NewMailbox starts the server.
func NewMailbox() (*Mailbox, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("idptest: smtp listener: %w", err)
	}
	m := &Mailbox{ln: ln, arrived: make(chan struct{}, 1)}
	m.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &mailSession{box: m}, nil
	}))
	m.srv.Domain = "localhost"
	m.srv.ReadTimeout, m.srv.WriteTimeout = 10*time.Second, 10*time.Second
	go m.srv.Serve(ln) //nolint:errcheck // closed by Close
	return m, nil
}

// URL is the provider's IDP_SMTP_URL for this server (loopback, no TLS).
func (m *Mailbox) URL() string { return "smtp://" + m.ln.Addr().String() + "?starttls=none" }

// Close stops the server.
func (m *Mailbox) Close() error { return m.srv.Close() }

// Messages returns every message received so far.
func (m *Mailbox) Messages() []Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Message(nil), m.messages...)
}

// To returns the messages to addr whose subject contains subject.
func (m *Mailbox) To(addr, subject string) []Message {
	var out []Message
	for _, msg := range m.Messages() {
		if strings.EqualFold(msg.To, addr) && strings.Contains(msg.Subject, subject) {
			out = append(out, msg)
		}
	}
	return out
}

// Wait returns the first message to addr whose subject contains subject,
// waiting up to timeout.
func (m *Mailbox) Wait(addr, subject string, timeout time.Duration) (Message, error) {
	deadline := time.After(timeout)
	for {
		if got := m.To(addr, subject); len(got) > 0 {
			return got[0], nil
		}
		select {
		case <-m.arrived:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			return Message{}, fmt.Errorf("idptest: no email to %s with subject %q within %v", addr, subject, timeout)
		}
	}
}

type mailSession struct {
	box *Mailbox
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
	msg, err := parseMessage(raw)
	if err != nil {
		return err
	}
	if len(s.to) > 0 {
		msg.To = s.to[0]
	}
	s.box.mu.Lock()
	s.box.messages = append(s.box.messages, msg)
	s.box.mu.Unlock()
	select {
	case s.box.arrived <- struct{}{}:
	default:
	}
	return nil
}

// parseMessage decodes the subject and the text/plain part.
func parseMessage(raw []byte) (Message, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, fmt.Errorf("idptest: unparsable email: %w", err)
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		subject = m.Header.Get("Subject")
	}
	text, err := textPart(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body)
	if err != nil {
		return Message{}, err
	}
	return Message{Subject: subject, Text: text}, nil
}

func textPart(contentType, encoding string, body io.Reader) (string, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return "", nil
			}
			if err != nil {
				return "", fmt.Errorf("idptest: email part: %w", err)
			}
			if t, err := textPart(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil || t != "" {
				return t, err
			}
		}
	}
	if mt != "text/plain" {
		return "", nil
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	return string(b), err
}
