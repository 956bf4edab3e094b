package mfa

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// The TOTP parameters: the defaults of RFC 6238 and of every authenticator
// app. Changing them would break every enrolled app.
const (
	// Period is the length of one time step.
	Period = 30 * time.Second
	// Digits is the length of a code.
	Digits = 6
	// Skew is how many steps before and after the current one a code is
	// accepted from, for clocks that drift.
	Skew = 1
	// SecretSize is the secret's length in bytes: 160 bits, as RFC 4226
	// recommends.
	SecretSize = 20
)

var hotpOpts = hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// base32NoPad is how authenticator apps take a secret.
var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns a fresh random secret from crypto/rand.
func NewSecret() ([]byte, error) {
	b := make([]byte, SecretSize)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("mfa: reading random secret: %w", err)
	}
	return b, nil
}

// FormatSecret is the secret as a person types it into an app: base32 in
// groups of four characters ("JBSW Y3DP …"). Apps ignore the spaces.
func FormatSecret(secret []byte) string {
	s := base32NoPad.EncodeToString(secret)
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// URI is the otpauth:// URI of secret (Google Authenticator's Key URI
// Format) that the QR code carries: issuer names the product, account the
// user (their email), as the app lists them.
func URI(issuer, account string, secret []byte) (string, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: issuer, AccountName: account, Secret: secret,
		Period: uint(Period / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", fmt.Errorf("mfa: building otpauth URI: %w", err)
	}
	return key.URL(), nil
}

// QRCode renders uri as a PNG image of size×size pixels.
func QRCode(uri string, size int) ([]byte, error) {
	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		return nil, fmt.Errorf("mfa: QR code: %w", err)
	}
	img, err := key.Image(size, size)
	if err != nil {
		return nil, fmt.Errorf("mfa: QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("mfa: QR code: %w", err)
	}
	return buf.Bytes(), nil
}

// Step is the time step t falls in: the counter of RFC 6238.
func Step(t time.Time) int64 {
	s := t.Unix()
	p := int64(Period / time.Second)
	if s < 0 {
		return (s - p + 1) / p
	}
	return s / p
}

// NormalizeCode returns code without spaces when it has the shape of a
// TOTP code (Digits decimal digits).
func NormalizeCode(code string) (string, bool) {
	c := strings.Join(strings.Fields(code), "")
	if len(c) != Digits {
		return "", false
	}
	for _, r := range c {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	return c, true
}

// errBadSecret: the secret did not encode; never happens for secrets from
// NewSecret.
var errBadSecret = errors.New("mfa: unusable TOTP secret")

// Match reports whether code is the code of secret for a time step within
// Skew steps of now, and which step: the latest one that matches. Every
// candidate is computed and compared in constant time. The caller refuses
// the code unless that step is later than the last one accepted (replay).
func Match(secret []byte, code string, now time.Time) (step int64, ok bool, err error) {
	c, shaped := NormalizeCode(code)
	if !shaped {
		c = strings.Repeat("x", Digits) // compare anyway: same work either way
	}
	enc := base32NoPad.EncodeToString(secret)
	cur := Step(now)
	for s := cur - Skew; s <= cur+Skew; s++ {
		if s < 0 {
			continue
		}
		good, verr := hotp.ValidateCustom(c, uint64(s), enc, hotpOpts)
		if verr != nil {
			return 0, false, fmt.Errorf("%w: %w", errBadSecret, verr)
		}
		if good && shaped {
			step, ok = s, true
		}
	}
	return step, ok, nil
}

// Code is the code of secret at t, as an app shows it (for tests and
// tools; the server never shows codes).
func Code(secret []byte, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(base32NoPad.EncodeToString(secret), t, totp.ValidateOpts{
		Period: uint(Period / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
}
