package password

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestGeneratedSecret(t *testing.T) {
	s := GenerateSecret()
	if b, err := base64.RawURLEncoding.DecodeString(s); err != nil || len(b) != 32 {
		t.Fatalf("GenerateSecret() = %q: want 256 bits, base64url", s)
	}
	if s == GenerateSecret() {
		t.Fatal("two generated secrets are equal")
	}
	stored, err := HashGenerated(s)
	if err != nil {
		t.Fatal(err)
	}
	if !IsGeneratedHash(stored) || strings.Contains(stored, s) {
		t.Fatalf("HashGenerated = %q: want the $sha256$ form, without the secret", stored)
	}
	h := cheapHasher()
	if ok, err := h.VerifySecret(s, stored); err != nil || !ok {
		t.Fatalf("VerifySecret(right) = %v, %v", ok, err)
	}
	for _, wrong := range []string{"", s[:42], s + "A", GenerateSecret(), strings.ToUpper(s)} {
		if ok, err := h.VerifySecret(wrong, stored); err != nil || ok {
			t.Errorf("VerifySecret(%q) = %v, %v; want false, nil", wrong, ok, err)
		}
	}
	for _, bad := range []string{"$sha256$", "$sha256$not base64!", "$sha256$" + base64.RawStdEncoding.EncodeToString([]byte("short"))} {
		if ok, err := h.VerifySecret(s, bad); !errors.Is(err, ErrMalformedHash) || ok {
			t.Errorf("VerifySecret against %q = %v, %v; want false, ErrMalformedHash", bad, ok, err)
		}
	}

	// argon2id hashes (older client secrets, operator-chosen ones) still
	// verify.
	phc, err := h.Hash("an operator typed this client secret, 32+ chars")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := h.VerifySecret("an operator typed this client secret, 32+ chars", phc); err != nil || !ok {
		t.Fatalf("VerifySecret(argon2id) = %v, %v", ok, err)
	}
	if ok, err := h.VerifySecret("wrong", phc); err != nil || ok {
		t.Fatalf("VerifySecret(argon2id, wrong) = %v, %v", ok, err)
	}
}

// TestHashGeneratedRefusesChosenSecrets: only GenerateSecret's shape gets
// the fast hash; a person's secret cannot be stored behind it by mistake.
func TestHashGeneratedRefusesChosenSecrets(t *testing.T) {
	for _, s := range []string{"", "correct horse battery staple, long enough for a client", strings.Repeat("a", 43)} {
		if _, err := HashGenerated(s); !errors.Is(err, ErrNotGenerated) {
			t.Errorf("HashGenerated(%q) = %v, want ErrNotGenerated", s, err)
		}
	}
	if _, err := HashGenerated(base64.RawURLEncoding.EncodeToString(make([]byte, 31))); !errors.Is(err, ErrNotGenerated) {
		t.Error("HashGenerated accepted 248 bits")
	}
	if _, err := HashGenerated(base64.StdEncoding.EncodeToString(make([]byte, 32))); !errors.Is(err, ErrNotGenerated) {
		t.Error("HashGenerated accepted padded standard base64 (openssl rand -base64 32)")
	}
}
