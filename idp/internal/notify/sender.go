package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"path/filepath"
	"strings"

	gomail "github.com/wneessen/go-mail"

	"github.com/cliniconnects/identity/idp/internal/config"
)

// Sender delivers one email. An error means it was not delivered and may
// be tried again. Implementations are safe for concurrent use and never log
// an email's parts.
type Sender interface {
	Send(ctx context.Context, e Email) error
}

// ErrFileMailRefused: no SMTP server is configured and the issuer is
// reachable by others, so the file sender (links in files and in the log)
// may not stand in for one.
var ErrFileMailRefused = errors.New("missing IDP_SMTP_URL: emails may be written to files only for a loopback issuer or with IDP_MAIL_FILE=true (development)")

// NewSender returns the sender the configuration asks for: an SMTPSender
// for IDP_SMTP_URL, or, when that is empty and cfg.FileMailAllowed (a
// loopback issuer, or IDP_MAIL_FILE), a FileSender writing into
// <DataDir>/mail. Otherwise ErrFileMailRefused: config.Load refuses such a
// configuration already; this keeps every other path to a sender honest.
func NewSender(cfg config.Config, logger *slog.Logger) (Sender, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SMTPURL == "" {
		if !cfg.FileMailAllowed() {
			return nil, ErrFileMailRefused
		}
		dir := filepath.Join(cfg.DataDir, "mail")
		logger.Info("no IDP_SMTP_URL: emails are written as .eml files", "dir", dir)
		return &FileSender{Dir: dir, From: cfg.MailFrom, Issuer: cfg.Issuer, Logger: logger}, nil
	}
	s, err := NewSMTPSender(cfg.SMTPURL, cfg.MailFrom)
	if err != nil {
		return nil, err
	}
	logger.Info("emails are sent by SMTP", "smtp", s)
	return s, nil
}

// newMsg builds the RFC 5322 message both senders deliver: From, To,
// Subject, Date, a Message-ID in the sender's domain, and the text part with
// the HTML part as its alternative (multipart/alternative).
func newMsg(from string, e Email) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := m.From(from); err != nil {
		return nil, fmt.Errorf("invalid sender address: %w", err)
	}
	if err := m.To(e.To); err != nil {
		return nil, fmt.Errorf("invalid recipient address: %w", err)
	}
	m.Subject(e.Subject)
	m.SetDate()
	m.SetMessageIDWithValue(randomHex(16) + "@" + domainOf(from))
	m.SetBodyString(gomail.TypeTextPlain, e.Text)
	if e.HTML != "" {
		m.AddAlternativeString(gomail.TypeTextHTML, e.HTML)
	}
	return m, nil
}

// domainOf is the domain of address from, "localhost" when it has none.
func domainOf(from string) string {
	if a, err := mail.ParseAddress(from); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 && i < len(a.Address)-1 {
			return a.Address[i+1:]
		}
	}
	return "localhost"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}

// errEmptyEmail: nothing to send.
var errEmptyEmail = errors.New("email has no recipient or no text")
