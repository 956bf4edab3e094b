package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// FileSender is the development sender used when no SMTP server is
// configured: it writes each email as an RFC 5322 .eml file — the bytes
// SMTPSender would send — and logs where, and the link in it, so that
// someone running the provider locally can follow the link.
type FileSender struct {
	Dir    string // created (0700) when missing; files are 0600
	From   string // the From address (IDP_MAIL_FROM)
	Issuer string // the issuer's base URL: the first link under it is logged
	Logger *slog.Logger
}

// Send writes e to Dir/<UTC timestamp>-<random>.eml and logs one line,
// "email written", with the path, the recipient and the link. That line is
// the only place a link is ever logged.
func (f *FileSender) Send(ctx context.Context, e Email) error {
	if e.To == "" || e.Text == "" {
		return errEmptyEmail
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	msg, err := newMsg(f.From, e)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return fmt.Errorf("mail directory: %w", err)
	}
	name := time.Now().UTC().Format("20060102T150405.000000Z") + "-" + randomHex(4) + ".eml"
	path := filepath.Join(f.Dir, name)
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("writing email file: %w", err)
	}
	_, werr := msg.WriteTo(file)
	cerr := file.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("writing email file %s: %w", path, err)
	}
	logger := f.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger.Info("email written", "path", path, "to", e.To, "link", firstLink(e.Text, f.Issuer))
	return nil
}

// urlPattern finds http(s) URLs in plain text.
var urlPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

// firstLink is the first URL in text under issuer, "" when there is none.
func firstLink(text, issuer string) string {
	base := strings.TrimRight(issuer, "/")
	for _, u := range urlPattern.FindAllString(text, -1) {
		if base != "" && (u == base || strings.HasPrefix(u, base+"/") || strings.HasPrefix(u, base+"?")) {
			return u
		}
	}
	return ""
}
