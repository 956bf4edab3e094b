package config

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
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
	c, err := Load(env(map[string]string{"IDP_ISSUER": "https://id.example.com/"}), nil)
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
