package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Config is everything the provider reads at start.
type Config struct {
	Issuer        string // IDP_ISSUER: the public base URL; every link and token names it
	Listen        string // IDP_LISTEN: host:port to serve on
	MetricsListen string // IDP_METRICS_LISTEN: private host:port for /metrics and /debug/pprof/; "" serves neither
	Database      string // IDP_DATABASE: SQLite path, or a postgres:// URL
	// DatabaseWait (IDP_DATABASE_WAIT): how long one database call waits
	// (for a connection, SQLite's write lock, an answer) before the request
	// is answered 503.
	DatabaseWait      time.Duration
	DataDir           string        // IDP_DATA_DIR: SQLite file, key file, mail drop
	BootstrapEmail    string        // IDP_BOOTSTRAP_EMAIL: first super admin of an empty store
	PasswordMinLength int           // IDP_PASSWORD_MIN_LENGTH: 8…256
	SecretKey         string        // IDP_SECRET_KEY (environment only): key-encryption key (base64, 32 bytes)
	SecretKeyFile     string        // IDP_SECRET_KEY_FILE: file holding the key-encryption key; default: <DataDir>/secret.key
	KeyRotation       time.Duration // IDP_KEY_ROTATION: how often the signing key changes
	AccessTokenTTL    time.Duration // IDP_ACCESS_TOKEN_TTL
	IDTokenTTL        time.Duration // IDP_ID_TOKEN_TTL
	RefreshTokenTTL   time.Duration // IDP_REFRESH_TOKEN_TTL: absolute lifetime of a refresh token family member
	// RefreshReuseWindow (IDP_REFRESH_REUSE_WINDOW): how long after its
	// rotation a refresh token may be retried while its successor is
	// unused; 0 turns retries off.
	RefreshReuseWindow time.Duration
	SessionTTL         time.Duration // IDP_SESSION_TTL: browser (SSO) session lifetime
	LockAfter          int           // IDP_LOCK_AFTER: failed sign-ins before an account is locked
	LockFor            time.Duration // IDP_LOCK_FOR: how long the lock lasts
	LogLevel           string        // IDP_LOG_LEVEL: debug, info, warn, error
	SMTPURL            string        // IDP_SMTP_URL: smtp:// or smtps:// server; "" writes .eml files into <DataDir>/mail (see FileMailAllowed)
	MailFile           bool          // IDP_MAIL_FILE: allow the .eml file sender on an issuer that is not loopback (development only)
	MailFrom           string        // IDP_MAIL_FROM: sender of every email
	ResetTTL           time.Duration // IDP_RESET_TTL: lifetime of a password reset link
	InviteTTL          time.Duration // IDP_INVITE_TTL: lifetime of an invitation link
	EmailChangeTTL     time.Duration // IDP_EMAIL_CHANGE_TTL: lifetime of an email change confirmation link
	// SMSURL (IDP_SMS_URL) is where SMS go: an https:// webhook (http://
	// to a loopback host only), or twilio://ACCOUNT_SID:AUTH_TOKEN@+FROM;
	// "" writes them as files on a loopback issuer and sends none otherwise.
	SMSURL        string
	SMSToken      string // IDP_SMS_TOKEN: bearer token sent to the SMS webhook
	TwilioBaseURL string // IDP_TWILIO_BASE_URL: the Twilio-compatible API (tests point it elsewhere)
	// TrustedProxies (IDP_TRUSTED_PROXIES) are the load balancers whose
	// X-Forwarded-For is believed; the client address keys per-source
	// throttling and the audit log, so it must not be spoofable.
	TrustedProxies []netip.Prefix
	// MFARequiredRoles (IDP_MFA_REQUIRED_ROLES) are the roles whose holders
	// must sign in with a second factor; they are taken through setting
	// one up at their next sign-in. Empty: no role requires it.
	MFARequiredRoles []storage.Role
}

// setting describes one configuration value: its env variable, flag, default
// and help text. One table drives flags, environment and documentation.
type setting struct {
	env, flag, def, help string
	set                  func(c *Config, v string) error
}

// envOnly lists the settings that are secrets: a command line is visible to
// every local user (ps, /proc/<pid>/cmdline, shell history), so they are
// read from the environment (or a file) only. Their flags exist only to be
// refused with a message naming the variable.
var envOnly = map[string]string{
	"IDP_SECRET_KEY": "set IDP_SECRET_KEY in the environment, or name a key file with IDP_SECRET_KEY_FILE",
	"IDP_SMS_URL":    "set IDP_SMS_URL in the environment (a twilio:// URL holds the auth token)",
	"IDP_SMS_TOKEN":  "set IDP_SMS_TOKEN in the environment",
}

var settings = []setting{
	{"IDP_ISSUER", "issuer", "http://localhost:8080", "public base URL of the provider", func(c *Config, v string) error { c.Issuer = strings.TrimRight(v, "/"); return nil }},
	{"IDP_LISTEN", "listen", "127.0.0.1:8080", "address to listen on", func(c *Config, v string) error { c.Listen = v; return nil }},
	{"IDP_METRICS_LISTEN", "metrics-listen", "", "host:port of a private listener for Prometheus /metrics and Go's /debug/pprof/, e.g. 127.0.0.1:9090; keep it off public interfaces (default: off)", func(c *Config, v string) error { c.MetricsListen = v; return nil }},
	{"IDP_DATA_DIR", "data-dir", "./data", "directory for the SQLite file, key file and mail drop", func(c *Config, v string) error { c.DataDir = v; return nil }},
	{"IDP_DATABASE", "database", "", "SQLite file path or postgres:// URL (default: <data-dir>/idp.db)", func(c *Config, v string) error { c.Database = v; return nil }},
	{"IDP_DATABASE_WAIT", "database-wait", "5s", "how long a request waits for the database (a connection, SQLite's write lock, an answer) before it answers 503", durSetter(func(c *Config) *time.Duration { return &c.DatabaseWait })},
	{"IDP_BOOTSTRAP_EMAIL", "bootstrap-email", "admin@localhost", "email of the super admin created in an empty store", func(c *Config, v string) error { c.BootstrapEmail = v; return nil }},
	{"IDP_PASSWORD_MIN_LENGTH", "password-min-length", "15", "minimum password length (8…256)", intSetter(func(c *Config) *int { return &c.PasswordMinLength })},
	{"IDP_SECRET_KEY", "secret-key", "", "base64 key-encryption key, 32 bytes; environment only, never a flag (default: IDP_SECRET_KEY_FILE, else generated into <data-dir>/secret.key)", func(c *Config, v string) error { c.SecretKey = v; return nil }},
	{"IDP_SECRET_KEY_FILE", "secret-key-file", "", "file holding the key-encryption key (base64 or 32 raw bytes, mode 0600 or stricter) (default: <data-dir>/secret.key)", func(c *Config, v string) error { c.SecretKeyFile = v; return nil }},
	{"IDP_KEY_ROTATION", "key-rotation", "720h", "signing key rotation period", durSetter(func(c *Config) *time.Duration { return &c.KeyRotation })},
	{"IDP_ACCESS_TOKEN_TTL", "access-token-ttl", "15m", "access token lifetime", durSetter(func(c *Config) *time.Duration { return &c.AccessTokenTTL })},
	{"IDP_ID_TOKEN_TTL", "id-token-ttl", "1h", "ID token lifetime", durSetter(func(c *Config) *time.Duration { return &c.IDTokenTTL })},
	{"IDP_REFRESH_TOKEN_TTL", "refresh-token-ttl", "720h", "refresh token lifetime", durSetter(func(c *Config) *time.Duration { return &c.RefreshTokenTTL })},
	{"IDP_REFRESH_REUSE_WINDOW", "refresh-reuse-window", "30s", "how long after a refresh a client may retry with the same refresh token while the new one is unused (0: never)", func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > 5*time.Minute {
			return fmt.Errorf("%q is not a duration from 0s to 5m", v)
		}
		c.RefreshReuseWindow = d
		return nil
	}},
	{"IDP_SESSION_TTL", "session-ttl", "12h", "browser session lifetime", durSetter(func(c *Config) *time.Duration { return &c.SessionTTL })},
	{"IDP_LOCK_AFTER", "lock-after", "5", "failed sign-ins before a temporary lock", intSetter(func(c *Config) *int { return &c.LockAfter })},
	{"IDP_LOCK_FOR", "lock-for", "15m", "how long a locked account stays locked", durSetter(func(c *Config) *time.Duration { return &c.LockFor })},
	{"IDP_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", func(c *Config, v string) error { c.LogLevel = v; return nil }},
	{"IDP_SMTP_URL", "smtp-url", "", "smtp://user:pass@host:587?starttls=mandatory|opportunistic|none or smtps://host:465 (default: .eml files in <data-dir>/mail)", func(c *Config, v string) error { c.SMTPURL = v; return nil }},
	{"IDP_MAIL_FILE", "mail-file", "false", "true: write emails as .eml files and log their links even though the issuer is not loopback (development only)", boolSetter(func(c *Config) *bool { return &c.MailFile })},
	{"IDP_MAIL_FROM", "mail-from", "CliniConnects Identity <no-reply@localhost>", "sender address of every email", func(c *Config, v string) error { c.MailFrom = v; return nil }},
	{"IDP_RESET_TTL", "reset-ttl", "30m", "password reset link lifetime", durSetter(func(c *Config) *time.Duration { return &c.ResetTTL })},
	{"IDP_INVITE_TTL", "invite-ttl", "168h", "invitation link lifetime", durSetter(func(c *Config) *time.Duration { return &c.InviteTTL })},
	{"IDP_EMAIL_CHANGE_TTL", "email-change-ttl", "24h", "email change confirmation link lifetime", durSetter(func(c *Config) *time.Duration { return &c.EmailChangeTTL })},
	{"IDP_SMS_URL", "sms-url", "", "https://… webhook (JSON POST) or twilio://ACCOUNT_SID:AUTH_TOKEN@+FROMNUMBER; environment only (default: files in <data-dir>/sms on a loopback issuer or with IDP_MAIL_FILE, no SMS otherwise)", func(c *Config, v string) error { c.SMSURL = v; return nil }},
	{"IDP_SMS_TOKEN", "sms-token", "", "bearer token the SMS webhook receives (required with an https:// IDP_SMS_URL); environment only", func(c *Config, v string) error { c.SMSToken = v; return nil }},
	{"IDP_TWILIO_BASE_URL", "twilio-base-url", "https://api.twilio.com", "base URL of the Twilio-compatible API for a twilio:// IDP_SMS_URL", func(c *Config, v string) error { c.TwilioBaseURL = strings.TrimRight(v, "/"); return nil }},
	{"IDP_TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated IPs or CIDRs of load balancers whose X-Forwarded-For is trusted (default: none)", setTrustedProxies},
	{"IDP_MFA_REQUIRED_ROLES", "mfa-required-roles", "super_admin,admin", "comma-separated roles whose holders must sign in with an authenticator app (none: no role)", setMFARequiredRoles},
}

func setMFARequiredRoles(c *Config, v string) error {
	c.MFARequiredRoles = nil
	if strings.TrimSpace(v) == "none" {
		return nil
	}
	for _, f := range strings.Split(v, ",") {
		r := storage.Role(strings.TrimSpace(f))
		if r == "" {
			continue
		}
		if !r.Valid() {
			return fmt.Errorf("%q is not a role (super_admin, admin, assigning_manager; or none)", r)
		}
		if !slices.Contains(c.MFARequiredRoles, r) {
			c.MFARequiredRoles = append(c.MFARequiredRoles, r)
		}
	}
	return nil
}

func setTrustedProxies(c *Config, v string) error {
	c.TrustedProxies = nil
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return fmt.Errorf("%q is not an IP address or CIDR", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		c.TrustedProxies = append(c.TrustedProxies, p.Masked())
	}
	return nil
}

func intSetter(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		*field(c) = n
		return nil
	}
}

func boolSetter(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		*field(c) = b
		return nil
	}
}

func durSetter(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("%q is not a positive duration such as 15m or 12h", v)
		}
		*field(c) = d
		return nil
	}
}

// Register adds one flag per setting to fs. Load applies them after the
// environment, so a flag wins over its variable.
func Register(fs *flag.FlagSet) {
	for _, s := range settings {
		if hint, ok := envOnly[s.env]; ok {
			fs.Var(new(refusedFlag), s.flag, "not accepted on the command line (visible in ps): "+hint)
			continue
		}
		fs.String(s.flag, "", fmt.Sprintf("%s (env %s, default %q)", s.help, s.env, s.def))
	}
}

// refusedFlag stands for a secret's flag: it notes that it was given and
// forgets the value, which Load then refuses.
type refusedFlag struct{ given bool }

func (f *refusedFlag) String() string   { return "" }
func (f *refusedFlag) Set(string) error { f.given = true; return nil }

// Load builds the configuration from defaults, then getenv, then flags set
// on fs (which may be nil). The error names the setting in one line.
func Load(getenv func(string) string, fs *flag.FlagSet) (Config, error) {
	var c Config
	for _, s := range settings {
		v, from := s.def, "default of "+s.env
		if e := getenv(s.env); e != "" {
			v, from = e, s.env
		}
		if hint, ok := envOnly[s.env]; ok {
			if f, ok := fsLookup(fs, s.flag).(*refusedFlag); ok && f.given {
				return Config{}, fmt.Errorf("--%s is not accepted: a secret on the command line is visible to every user of the machine (ps); %s", s.flag, hint)
			}
		} else if fs != nil {
			if f := fs.Lookup(s.flag); f != nil && f.Value.String() != "" {
				v, from = f.Value.String(), "--"+s.flag
			}
		}
		if err := s.set(&c, v); err != nil {
			return Config{}, fmt.Errorf("invalid %s: %w", from, err)
		}
	}
	if c.Database == "" {
		c.Database = filepath.Join(c.DataDir, "idp.db")
	}
	return c, c.validate()
}

// fsLookup is the value of fs's flag name, nil when there is none.
func fsLookup(fs *flag.FlagSet, name string) flag.Value {
	if fs == nil {
		return nil
	}
	if f := fs.Lookup(name); f != nil {
		return f.Value
	}
	return nil
}

func (c Config) validate() error {
	u, err := url.Parse(c.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return errors.New("invalid IDP_ISSUER: must be an absolute http(s) URL without query, fragment or credentials, e.g. https://id.example.com")
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		return fmt.Errorf("invalid IDP_ISSUER: %s uses http on a non-loopback host; use https", c.Issuer)
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("invalid IDP_LISTEN: %q is not host:port", c.Listen)
	}
	if c.MetricsListen != "" {
		host, port, err := net.SplitHostPort(c.MetricsListen)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 || strings.ContainsAny(host, "/ ") {
			return fmt.Errorf("invalid IDP_METRICS_LISTEN: %q is not host:port, e.g. 127.0.0.1:9090 (leave it empty to serve no metrics)", c.MetricsListen)
		}
	}
	if c.DataDir == "" {
		return errors.New("invalid IDP_DATA_DIR: must not be empty")
	}
	if a, err := mail.ParseAddress(c.BootstrapEmail); err != nil || a.Address != c.BootstrapEmail {
		return fmt.Errorf("invalid IDP_BOOTSTRAP_EMAIL: %q is not an email address", c.BootstrapEmail)
	}
	if c.PasswordMinLength < 8 || c.PasswordMinLength > 256 {
		return fmt.Errorf("invalid IDP_PASSWORD_MIN_LENGTH: %d is outside 8…256", c.PasswordMinLength)
	}
	if c.LockAfter < 1 {
		return fmt.Errorf("invalid IDP_LOCK_AFTER: %d must be at least 1", c.LockAfter)
	}
	if c.SMTPURL != "" {
		u, err := url.Parse(c.SMTPURL)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
			return errors.New("invalid IDP_SMTP_URL: must be smtp://[user:password@]host[:port][?starttls=mandatory|opportunistic|none] or smtps://…")
		}
		switch u.Query().Get("starttls") {
		case "", "mandatory", "opportunistic", "none":
		default:
			return errors.New("invalid IDP_SMTP_URL: starttls must be mandatory, opportunistic or none")
		}
	}
	if c.SecretKey != "" && c.SecretKeyFile != "" {
		return errors.New("invalid IDP_SECRET_KEY_FILE: IDP_SECRET_KEY is set too; set one of them")
	}
	if c.MailFile && c.SMTPURL != "" {
		return errors.New("invalid IDP_MAIL_FILE: IDP_SMTP_URL is set too; mail goes either to files or to the SMTP server")
	}
	if c.SMTPURL == "" && !c.FileMailAllowed() {
		return fmt.Errorf("missing IDP_SMTP_URL: the issuer %s is not a loopback address, and without an SMTP server emails and their sign-in links would be written to files and the log (IDP_MAIL_FILE=true allows that for development only)", c.Issuer)
	}
	if a, err := mail.ParseAddress(c.MailFrom); err != nil || a.Address == "" {
		return fmt.Errorf("invalid IDP_MAIL_FROM: %q is not an address such as Name <no-reply@example.com>", c.MailFrom)
	}
	if err := c.validateSMS(); err != nil {
		return err
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("invalid IDP_LOG_LEVEL: %q is not debug, info, warn or error", c.LogLevel)
	}
	return nil
}

// FileMailAllowed reports whether emails may be written as .eml files with
// their links logged (notify's FileSender) instead of being sent: only for
// a loopback issuer, which nobody else can reach, or when IDP_MAIL_FILE
// says this is development. Links in those files and log lines sign people
// in, so a reachable provider must send them by SMTP.
func (c Config) FileMailAllowed() bool {
	if c.MailFile {
		return true
	}
	u, err := url.Parse(c.Issuer)
	return err == nil && IsLoopback(u.Hostname())
}

// validateSMS checks IDP_SMS_URL, IDP_SMS_TOKEN and IDP_TWILIO_BASE_URL.
// Errors never repeat a token.
func (c Config) validateSMS() error {
	if err := checkHTTPURL(c.TwilioBaseURL); err != nil {
		return fmt.Errorf("invalid IDP_TWILIO_BASE_URL: %w", err)
	}
	if c.SMSURL == "" {
		return nil
	}
	u, err := url.Parse(c.SMSURL)
	if err != nil {
		return errors.New("invalid IDP_SMS_URL: not a URL (not shown: it may hold a token)")
	}
	if u.Scheme == "twilio" {
		token, _ := u.User.Password()
		if u.User.Username() == "" || token == "" || !IsE164(u.Host) || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return errors.New("invalid IDP_SMS_URL: want twilio://ACCOUNT_SID:AUTH_TOKEN@+FROMNUMBER (the sender number in E.164)")
		}
		return nil
	}
	if u.User != nil {
		return errors.New("invalid IDP_SMS_URL: put the webhook's credentials in IDP_SMS_TOKEN, not in the URL")
	}
	if err := checkHTTPURL(c.SMSURL); err != nil {
		return fmt.Errorf("invalid IDP_SMS_URL: %w, or twilio://ACCOUNT_SID:AUTH_TOKEN@+FROMNUMBER", err)
	}
	if c.SMSToken == "" {
		return errors.New("invalid IDP_SMS_TOKEN: required with a webhook IDP_SMS_URL")
	}
	return nil
}

// checkHTTPURL accepts an absolute https URL, or http to a loopback host,
// without credentials, query or fragment.
func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return errors.New("want an absolute https:// URL without credentials, query or fragment")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && IsLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return errors.New("plain http is allowed to a loopback host only; use https://")
	}
	return errors.New("want an https:// URL")
}

// IsE164 reports whether s has the shape of an E.164 number: + and 7 to 15
// digits, the first not 0. (Parsing and normalising a number a person
// typed is account.NormalizePhone's.)
func IsE164(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Secure reports whether the issuer is https (cookies get the Secure flag).
func (c Config) Secure() bool { return strings.HasPrefix(c.Issuer, "https://") }

// IsLoopback reports whether host is localhost or a loopback IP.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Settings returns env name, default and help of every setting, in order,
// for documentation.
func Settings() [][3]string {
	out := make([][3]string, len(settings))
	for i, s := range settings {
		out[i] = [3]string{s.env, s.def, s.help}
	}
	return out
}
