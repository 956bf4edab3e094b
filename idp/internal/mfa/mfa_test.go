package mfa_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/cliniconnects/identity/idp/internal/keys"
	"github.com/cliniconnects/identity/idp/internal/mfa"
)

func newSecret(t *testing.T) []byte {
	t.Helper()
	s, err := mfa.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != mfa.SecretSize {
		t.Fatalf("secret of %d bytes", len(s))
	}
	return s
}

// appCode is what an authenticator app shows at at, computed by
// pquerna/otp from the secret as the user types it.
func appCode(t *testing.T, secret []byte, at time.Time) string {
	t.Helper()
	typed := strings.ReplaceAll(mfa.FormatSecret(secret), " ", "")
	c, err := totp.GenerateCode(typed, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMatchOneStepOfSkew(t *testing.T) {
	secret := newSecret(t)
	now := time.Date(2026, 3, 4, 5, 6, 17, 0, time.UTC)
	cur := mfa.Step(now)
	if cur != now.Unix()/30 {
		t.Fatalf("Step = %d, want %d", cur, now.Unix()/30)
	}
	tests := []struct {
		name     string
		at       time.Duration
		ok       bool
		wantStep int64
	}{
		{"current step", 0, true, cur},
		{"previous step (slow clock)", -30 * time.Second, true, cur - 1},
		{"next step (fast clock)", 30 * time.Second, true, cur + 1},
		{"two steps back", -60 * time.Second, false, 0},
		{"two steps ahead", 60 * time.Second, false, 0},
		{"an hour ago", -time.Hour, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code := appCode(t, secret, now.Add(tc.at))
			step, ok, err := mfa.Match(secret, code, now)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.ok || (ok && step != tc.wantStep) {
				t.Fatalf("Match(code at %v) = step %d, %v; want %d, %v", tc.at, step, ok, tc.wantStep, tc.ok)
			}
		})
	}
}

func TestMatchRefusesOtherInput(t *testing.T) {
	secret := newSecret(t)
	now := time.Now()
	good := appCode(t, secret, now)
	if _, ok, _ := mfa.Match(secret, good[:3]+" "+good[3:], now); !ok {
		t.Error("a code typed with a space in the middle is refused")
	}
	other := newSecret(t)
	for _, in := range []string{"", "12345", "1234567", "abcdef", good + "0", "-" + good[1:], appCode(t, other, now)} {
		if in == good {
			continue
		}
		if _, ok, err := mfa.Match(secret, in, now); ok || err != nil {
			t.Errorf("Match(%q) = %v, %v; want refused", in, ok, err)
		}
	}
}

func TestURIAndQRCode(t *testing.T) {
	secret := newSecret(t)
	uri, err := mfa.URI("CliniConnects", "ann@example.com", secret)
	if err != nil {
		t.Fatal(err)
	}
	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		t.Fatal(err)
	}
	if key.Type() != "totp" || key.Issuer() != "CliniConnects" || key.AccountName() != "ann@example.com" ||
		key.Period() != 30 || key.Digits() != otp.DigitsSix || key.Algorithm() != otp.AlgorithmSHA1 {
		t.Fatalf("otpauth URI %s: type %s issuer %s account %s period %d digits %v algorithm %v",
			uri, key.Type(), key.Issuer(), key.AccountName(), key.Period(), key.Digits(), key.Algorithm())
	}
	if key.Secret() != strings.ReplaceAll(mfa.FormatSecret(secret), " ", "") {
		t.Fatalf("URI secret %s, manual key %s", key.Secret(), mfa.FormatSecret(secret))
	}
	// A code from the URI's key (what a scanning app computes) matches.
	code, err := totp.GenerateCode(key.Secret(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := mfa.Match(secret, code, time.Now()); !ok {
		t.Fatal("the code of the URI's key does not match")
	}

	img, err := mfa.QRCode(uri, 240)
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := png.Decode(bytes.NewReader(img))
	if err != nil {
		t.Fatalf("QR code is not a PNG: %v", err)
	}
	if b := decoded.Bounds(); b.Dx() != 240 || b.Dy() != 240 {
		t.Fatalf("QR code is %v, want 240×240", b)
	}
}

func TestFormatSecret(t *testing.T) {
	got := mfa.FormatSecret([]byte("12345678901234567890"))
	if got != "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ" {
		t.Fatalf("FormatSecret = %q", got)
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes, err := mfa.NewRecoveryCodes()
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != mfa.RecoveryCodeCount || mfa.RecoveryCodeCount != 10 {
		t.Fatalf("%d codes", len(codes))
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if len(c) != 11 || c[5] != '-' {
			t.Fatalf("code %q is not xxxxx-xxxxx", c)
		}
		n, ok := mfa.NormalizeRecoveryCode(c)
		if !ok || n != c[:5]+c[6:] {
			t.Fatalf("NormalizeRecoveryCode(%q) = %q, %v", c, n, ok)
		}
		if seen[n] {
			t.Fatalf("duplicate code %q", c)
		}
		seen[n] = true
		if n2, ok := mfa.NormalizeRecoveryCode(" " + strings.ToUpper(c[:5]) + " " + c[6:] + " "); !ok || n2 != n {
			t.Errorf("typed in capitals with spaces: %q, %v", n2, ok)
		}
	}
	for _, bad := range []string{"", "abcde", "abcde-fghij-k", "abcde-fgh1j", "abcde-fgh0j", "abcde_fghij", "123456"} {
		if _, ok := mfa.NormalizeRecoveryCode(bad); ok {
			t.Errorf("NormalizeRecoveryCode(%q) accepted", bad)
		}
	}
}

func TestKeysSealAndHash(t *testing.T) {
	kek := make([]byte, keys.KEKSize)
	_, _ = rand.Read(kek)
	k, err := mfa.NewKeys(kek)
	if err != nil {
		t.Fatal(err)
	}
	secret := newSecret(t)
	sealed, err := k.Seal("u1", secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, secret) {
		t.Fatal("the sealed secret contains the secret")
	}
	if got, err := k.Open("u1", sealed); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %x, %v", got, err)
	}
	if _, err := k.Open("u2", sealed); !errors.Is(err, keys.ErrWrongKEK) {
		t.Errorf("Open for another user: %v, want ErrWrongKEK", err)
	}
	other := make([]byte, keys.KEKSize)
	_, _ = rand.Read(other)
	k2, _ := mfa.NewKeys(other)
	if _, err := k2.Open("u1", sealed); !errors.Is(err, keys.ErrWrongKEK) {
		t.Errorf("Open under another KEK: %v, want ErrWrongKEK", err)
	}

	h := k.HashRecoveryCode("u1", "abcdefghij")
	if len(h) != 64 || h != k.HashRecoveryCode("u1", "abcdefghij") {
		t.Fatalf("hash %q is not a stable hex SHA-256", h)
	}
	for what, other := range map[string]string{
		"other code":  k.HashRecoveryCode("u1", "abcdefghik"),
		"other user":  k.HashRecoveryCode("u2", "abcdefghij"),
		"other KEK":   k2.HashRecoveryCode("u1", "abcdefghij"),
		"user+code":   k.HashRecoveryCode("u1a", "bcdefghij"),
		"unkeyed sum": fmt.Sprintf("%x", sha256.Sum256([]byte("abcdefghij"))),
	} {
		if other == h {
			t.Errorf("%s gives the same hash", what)
		}
	}
	if _, err := mfa.NewKeys([]byte("short")); err == nil {
		t.Error("NewKeys with a short KEK: no error")
	}
}
