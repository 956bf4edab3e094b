package idptest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// EnrollTOTP does what a user does to turn on two-step sign-in: signs in
// at the provider's /login with b's Email and Password, and on
// /account/mfa sets up an authenticator app, computing the confirming code
// from the key the setup page shows, as an app would (TOTPCode). It
// returns the key.
func (b *Browser) EnrollTOTP(issuer string) (string, error) {
	p, err := b.do(http.MethodGet, issuer+"/login", nil)
	if err != nil {
		return "", err
	}
	var signIn form
	for _, f := range parseForms(p.Body) {
		if f.hasPassword {
			signIn = f
		}
	}
	if !signIn.hasPassword {
		return "", fmt.Errorf("idptest: no sign-in form on %s", p.URL)
	}
	vals := signIn.values()
	vals.Set(signIn.passwordName, b.Password)
	vals.Set(signIn.emailName, b.Email)
	if p, err = b.submit(p, signIn, vals); err != nil {
		return "", err
	}
	if p.URL.Path != "/account" {
		return "", fmt.Errorf("idptest: signing in as %s ended on %s (%d): %s", b.Email, p.URL, p.Status, errorText(p.Body))
	}
	if p, err = b.do(http.MethodGet, issuer+"/account/mfa", nil); err != nil {
		return "", err
	}
	if p, err = b.submitAction(p, "/account/mfa/setup", nil); err != nil {
		return "", err
	}
	m := secretRE.FindStringSubmatch(p.Body)
	if m == nil {
		return "", fmt.Errorf("idptest: no key on the setup page %s (%d): %s", p.URL, p.Status, errorText(p.Body))
	}
	key := strings.ReplaceAll(m[1], " ", "")
	code, err := TOTPCode(key, time.Now())
	if err != nil {
		return "", err
	}
	if p, err = b.submitAction(p, "/account/mfa/confirm", map[string]string{"code": code}); err != nil {
		return "", err
	}
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "recovery codes") {
		return "", fmt.Errorf("idptest: confirming the app: %d %s", p.Status, errorText(p.Body))
	}
	return key, nil
}

var secretRE = regexp.MustCompile(`id="totp-secret">([A-Z2-7 =]+)<`)

// submitAction submits the form of p that posts to action, with set
// overriding its fields.
func (b *Browser) submitAction(p Page, action string, set map[string]string) (Page, error) {
	for _, f := range parseForms(p.Body) {
		if f.action != action {
			continue
		}
		vals := f.values()
		for k, v := range set {
			vals.Set(k, v)
		}
		return b.submit(p, f, vals)
	}
	return Page{}, fmt.Errorf("idptest: no form posting to %s on %s (%d): %s", action, p.URL, p.Status, errorText(p.Body))
}

func (b *Browser) submit(p Page, f form, vals url.Values) (Page, error) {
	target, err := p.URL.Parse(f.action)
	if err != nil {
		return Page{}, fmt.Errorf("idptest: form action %q: %w", f.action, err)
	}
	return b.do(f.method, target.String(), vals)
}

// TOTPCode is the code an authenticator app shows at t for the base32
// key: RFC 6238 with HMAC-SHA1, 6 digits and 30-second steps.
func TOTPCode(key string, t time.Time) (string, error) {
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(strings.ToUpper(key), "="))
	if err != nil || len(secret) == 0 {
		return "", errors.New("idptest: the TOTP key is not base32")
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(t.Unix()/30))
	mac := hmac.New(sha1.New, secret)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	n := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", n%1_000_000), nil
}
