package config

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(env(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "http://localhost:8080" || c.Listen != "127.0.0.1:8080" || c.DataDir != "./data" || c.Database != "data/idp.db" {
		t.Fatalf("defaults: %+v", c)
	}
	if c.PasswordMinLength != 15 || c.LockAfter != 5 || c.LockFor.Minutes() != 15 {
		t.Fatalf("defaults: %+v", c)
	}
	if c.MetricsListen != "" {
		t.Fatalf("metrics are on by default: IDP_METRICS_LISTEN = %q", c.MetricsListen)
	}
	// A client that never saw a refresh's answer (outage, killed replica)
	// retries with the token it holds; without a window it loses the family.
	if c.RefreshReuseWindow != 30*time.Second {
		t.Fatalf("IDP_REFRESH_REUSE_WINDOW defaults to %v, want 30s", c.RefreshReuseWindow)
	}
}

// IDP_METRICS_LISTEN takes any host:port, a public one included (the
// README says to keep it private); nothing else about it is refused.
func TestMetricsListen(t *testing.T) {
	for _, v := range []string{"127.0.0.1:9090", "[::1]:9090", "localhost:0", "0.0.0.0:9090", ":9090"} {
		c, err := Load(env(map[string]string{"IDP_METRICS_LISTEN": v}), nil)
		if err != nil || c.MetricsListen != v {
			t.Errorf("%s: %q, %v", v, c.MetricsListen, err)
		}
	}
}

func TestFlagWinsOverEnv(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	Register(fs)
	if err := fs.Parse([]string{"--listen", "127.0.0.1:9999"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(env(map[string]string{"IDP_LISTEN": "127.0.0.1:7777"}), fs)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9999" {
		t.Fatalf("listen = %q", c.Listen)
	}
}

func TestInvalidNamesTheSetting(t *testing.T) {
	for _, tc := range []struct{ key, val, want string }{
		{"IDP_ISSUER", "not a url", "IDP_ISSUER"},
		{"IDP_ISSUER", "http://id.example.com", "IDP_ISSUER"},
		{"IDP_ISSUER", "https://id.example.com?x=1", "IDP_ISSUER"},
		{"IDP_LISTEN", "8080", "IDP_LISTEN"},
		{"IDP_PASSWORD_MIN_LENGTH", "7", "IDP_PASSWORD_MIN_LENGTH"},
		{"IDP_PASSWORD_MIN_LENGTH", "abc", "IDP_PASSWORD_MIN_LENGTH"},
		{"IDP_BOOTSTRAP_EMAIL", "nobody", "IDP_BOOTSTRAP_EMAIL"},
		{"IDP_LOCK_FOR", "-1m", "IDP_LOCK_FOR"},
		{"IDP_LOG_LEVEL", "loud", "IDP_LOG_LEVEL"},
		{"IDP_METRICS_LISTEN", "9090", "IDP_METRICS_LISTEN"},
		{"IDP_METRICS_LISTEN", "127.0.0.1:http-alt", "IDP_METRICS_LISTEN"},
		{"IDP_METRICS_LISTEN", "127.0.0.1:99999", "IDP_METRICS_LISTEN"},
	} {
		t.Run(tc.key+"="+tc.val, func(t *testing.T) {
			_, err := Load(env(map[string]string{tc.key: tc.val}), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line naming %s", err, tc.want)
			}
		})
	}
}

func TestHTTPSIssuerIsSecure(t *testing.T) {
	c, err := Load(env(map[string]string{"IDP_ISSUER": "https://id.example.com/", "IDP_SMTP_URL": "smtp://mail.example.com"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Secure() || c.Issuer != "https://id.example.com" {
		t.Fatalf("%+v", c)
	}
}

func TestSMTPSettings(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"", true},
		{"smtp://mail.example.com:587", true},
		{"smtps://user:pw@mail.example.com:465", true},
		{"smtp://mail.example.com?starttls=none", true},
		{"smtp://mail.example.com?starttls=sometimes", false},
		{"http://mail.example.com", false},
		{"smtp://", false},
	} {
		_, err := Load(env(map[string]string{"IDP_SMTP_URL": tc.url}), nil)
		if (err == nil) != tc.ok {
			t.Errorf("IDP_SMTP_URL=%q: err %v", tc.url, err)
		}
		if err != nil && (!strings.Contains(err.Error(), "IDP_SMTP_URL") || strings.Contains(err.Error(), "user:pw")) {
			t.Errorf("IDP_SMTP_URL=%q: error %q must name the setting and not echo credentials", tc.url, err)
		}
	}
}

// TestREADMEDocumentsEverySetting keeps the README's configuration table in
// step with the settings table.
func TestREADMEDocumentsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Settings() {
		row := fmt.Sprintf("| `%s` |", s[0])
		if !strings.Contains(string(readme), row) {
			t.Errorf("README.md has no row for %s", s[0])
		}
	}
}

func TestTrustedProxies(t *testing.T) {
	c, err := Load(env(map[string]string{"IDP_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7,::1"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TrustedProxies) != 3 || c.TrustedProxies[1].String() != "192.168.1.7/32" || c.TrustedProxies[2].String() != "::1/128" {
		t.Fatalf("TrustedProxies = %v", c.TrustedProxies)
	}
	if _, err := Load(env(map[string]string{"IDP_TRUSTED_PROXIES": "10.0.0.0/8,proxy"}), nil); err == nil || !strings.Contains(err.Error(), "IDP_TRUSTED_PROXIES") {
		t.Fatalf("bad entry: %v", err)
	}
}

// A key on the command line is visible to every local user (ps): the flag
// is refused with a message naming the variable, and the value is never
// echoed.
func TestSecretKeyFlagRefused(t *testing.T) {
	for _, args := range [][]string{{"--secret-key", "c2VjcmV0LWtleS12YWx1ZQ=="}, {"-secret-key=c2VjcmV0LWtleS12YWx1ZQ=="}} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		Register(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatalf("%v: parse: %v", args, err)
		}
		_, err := Load(env(nil), fs)
		if err == nil || !strings.Contains(err.Error(), "IDP_SECRET_KEY") || strings.Contains(err.Error(), "c2VjcmV0") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("%v: err = %v, want one line naming IDP_SECRET_KEY without the value", args, err)
		}
	}
	// The variable and the key file still work.
	c, err := Load(env(map[string]string{"IDP_SECRET_KEY": "k"}), nil)
	if err != nil || c.SecretKey != "k" {
		t.Fatalf("IDP_SECRET_KEY: %+v, %v", c, err)
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	Register(fs)
	if err := fs.Parse([]string{"--secret-key-file", "/run/secrets/kek"}); err != nil {
		t.Fatal(err)
	}
	if c, err = Load(env(nil), fs); err != nil || c.SecretKeyFile != "/run/secrets/kek" {
		t.Fatalf("--secret-key-file: %+v, %v", c, err)
	}
	if _, err := Load(env(map[string]string{"IDP_SECRET_KEY": "k", "IDP_SECRET_KEY_FILE": "/x"}), nil); err == nil || !strings.Contains(err.Error(), "IDP_SECRET_KEY_FILE") {
		t.Fatalf("both set: %v", err)
	}
}

// Emails carry sign-in links; the file sender writes them to disk and the
// log, which only a provider nobody else can reach may do.
func TestFileMailNeedsLoopbackIssuerOrDevelopment(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string // "" = valid
	}{
		{map[string]string{}, ""},
		{map[string]string{"IDP_ISSUER": "http://127.0.0.1:8080"}, ""},
		{map[string]string{"IDP_ISSUER": "https://id.example.com"}, "IDP_SMTP_URL"},
		{map[string]string{"IDP_ISSUER": "https://id.example.com", "IDP_SMTP_URL": "smtp://mail.example.com"}, ""},
		{map[string]string{"IDP_ISSUER": "https://id.example.com", "IDP_MAIL_FILE": "true"}, ""},
		{map[string]string{"IDP_ISSUER": "https://id.example.com", "IDP_MAIL_FILE": "1"}, ""},
		{map[string]string{"IDP_ISSUER": "https://id.example.com", "IDP_MAIL_FILE": "false"}, "IDP_SMTP_URL"},
		{map[string]string{"IDP_MAIL_FILE": "maybe"}, "IDP_MAIL_FILE"},
		{map[string]string{"IDP_MAIL_FILE": "true", "IDP_SMTP_URL": "smtp://mail.example.com"}, "IDP_MAIL_FILE"},
	} {
		c, err := Load(env(tc.env), nil)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.env, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n")):
			t.Errorf("%v: err = %v, want one line naming %s", tc.env, err, tc.want)
		case err == nil && c.SMTPURL == "" && !c.FileMailAllowed():
			t.Errorf("%v: valid without SMTP but files not allowed", tc.env)
		}
	}
}
