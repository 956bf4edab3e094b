package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// SMTPTimeout bounds connecting to the SMTP server and each exchange with it.
const SMTPTimeout = 10 * time.Second

// SMTPSender delivers emails to one SMTP server with go-mail, one
// connection per email. Build it with NewSMTPSender.
type SMTPSender struct {
	from     string
	host     string
	port     int
	implicit bool             // smtps://: TLS from the first byte
	policy   gomail.TLSPolicy // smtp://: STARTTLS policy
	user     string           // "" sends no AUTH
	password string           // never logged, never in an error
	rootCAs  *x509.CertPool   // nil trusts the system roots; tests set their own
	timeout  time.Duration    // SMTPTimeout
}

// NewSMTPSender configures delivery through the server rawURL names (the
// IDP_SMTP_URL syntax), sending from from (IDP_MAIL_FROM):
//
//   - smtp://host[:port][?starttls=mandatory|opportunistic|none]: port 587,
//     STARTTLS mandatory unless the query says otherwise;
//   - smtps://host[:port]: port 465, TLS from the start.
//
// user:password in the URL is sent with SMTP AUTH (PLAIN, else LOGIN) over
// TLS only, or in the clear to a loopback host; starttls=none with
// credentials and a host that is not loopback is refused here. Errors never
// contain the password.
func NewSMTPSender(rawURL, from string) (*SMTPSender, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("invalid IDP_SMTP_URL: not a URL")
	}
	if a, err := mail.ParseAddress(from); err != nil || a.Address == "" {
		return nil, fmt.Errorf("invalid IDP_MAIL_FROM %q", from)
	}
	s := &SMTPSender{from: from, host: u.Hostname(), timeout: SMTPTimeout}
	if s.host == "" {
		return nil, errors.New("invalid IDP_SMTP_URL: no host")
	}
	switch u.Scheme {
	case "smtp":
		s.port = 587
		switch q := u.Query().Get("starttls"); q {
		case "", "mandatory":
			s.policy = gomail.TLSMandatory
		case "opportunistic":
			s.policy = gomail.TLSOpportunistic
		case "none":
			s.policy = gomail.NoTLS
		default:
			return nil, fmt.Errorf("invalid IDP_SMTP_URL: starttls=%q, want mandatory, opportunistic or none", q)
		}
	case "smtps":
		s.port, s.implicit = 465, true
	default:
		return nil, errors.New("invalid IDP_SMTP_URL: scheme must be smtp or smtps")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, errors.New("invalid IDP_SMTP_URL: bad port")
		}
		s.port = n
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.password, _ = u.User.Password()
	}
	if s.user != "" && !s.implicit && s.policy == gomail.NoTLS && !isLoopback(s.host) {
		return nil, errors.New("invalid IDP_SMTP_URL: credentials would be sent without TLS; use starttls=mandatory or smtps:// (only a loopback host may do without)")
	}
	return s, nil
}

// Send delivers e in one SMTP session. ctx bounds connecting; after that
// the session is bounded by SMTPTimeout (go-mail extends the connection's
// deadline by it per message), not by ctx.
func (s *SMTPSender) Send(ctx context.Context, e Email) error {
	if e.To == "" || e.Text == "" {
		return errEmptyEmail
	}
	msg, err := newMsg(s.from, e)
	if err != nil {
		return err
	}
	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(s.timeout),
		gomail.WithTLSConfig(&tls.Config{ServerName: s.host, RootCAs: s.rootCAs, MinVersion: tls.VersionTLS12}),
	}
	if s.implicit {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(s.policy))
	}
	if s.user != "" {
		opts = append(opts, gomail.WithSMTPAuthCustom(&credentialsAuth{
			user: s.user, password: s.password, loopback: isLoopback(s.host),
		}))
	}
	c, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return s.redact(fmt.Errorf("smtp client: %w", err))
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return s.redact(fmt.Errorf("smtp %s: %w", s.addr(), err))
	}
	return nil
}

// LogValue, String and GoString keep the password out of logs and
// formatted output.
func (s SMTPSender) LogValue() slog.Value {
	return slog.GroupValue(slog.String("server", s.addr()), slog.String("tls", s.tlsMode()), slog.Bool("auth", s.user != ""))
}

func (s SMTPSender) String() string   { return "SMTPSender(" + s.addr() + ")" }
func (s SMTPSender) GoString() string { return s.String() }

func (s SMTPSender) addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

func (s SMTPSender) tlsMode() string {
	if s.implicit {
		return "implicit"
	}
	return map[gomail.TLSPolicy]string{
		gomail.TLSMandatory: "starttls", gomail.TLSOpportunistic: "opportunistic", gomail.NoTLS: "none",
	}[s.policy]
}

// redact takes the password out of err's text, in case a server or library
// ever echoes it.
func (s *SMTPSender) redact(err error) error {
	msg := err.Error()
	for _, secret := range []string{s.password, url.QueryEscape(s.password), url.PathEscape(s.password)} {
		if len(secret) >= 3 {
			msg = strings.ReplaceAll(msg, secret, "***")
		}
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}

// credentialsAuth is SMTP AUTH with a user name and password: PLAIN when
// the server offers it, else LOGIN, and only over TLS — or to a loopback
// host, where there is no wire to listen on. go-mail's auto-discovery would
// pick only challenge-response mechanisms without TLS, which a local relay
// rarely offers, and TLSOpportunistic may end up without TLS; this decides
// per connection, after the server has said what it offers.
type credentialsAuth struct {
	user, password string
	loopback       bool
	inner          smtp.Auth // the mechanism chosen in Start
}

// errAuthNeedsTLS is refused authentication on a connection without TLS.
var errAuthNeedsTLS = errors.New("refusing to send SMTP credentials without TLS (the server did not offer STARTTLS)")

func (a *credentialsAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !a.loopback {
		return "", nil, errAuthNeedsTLS
	}
	// The TLS or loopback check is done: the mechanisms may go ahead.
	switch {
	case slices.Contains(server.Auth, "PLAIN"):
		a.inner = smtp.PlainAuth("", a.user, a.password, server.Name, true)
	case slices.Contains(server.Auth, "LOGIN"):
		a.inner = smtp.LoginAuth(a.user, a.password, server.Name, true)
	default:
		return "", nil, fmt.Errorf("server offers neither PLAIN nor LOGIN authentication (offers %q)", strings.Join(server.Auth, " "))
	}
	return a.inner.Start(server)
}

func (a *credentialsAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if a.inner == nil {
		return nil, errors.New("smtp auth: no mechanism started")
	}
	return a.inner.Next(fromServer, more)
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
