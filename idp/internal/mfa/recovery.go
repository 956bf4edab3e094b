package mfa

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
)

// RecoveryCodeCount is how many recovery codes a user gets at once.
const RecoveryCodeCount = 10

// recoveryCodeChars is the length of a code without its hyphen: 10 base32
// characters, 50 random bits. That is plenty against online guessing,
// which the sign-in lock bounds; offline, the stored hashes are keyed with
// a secret derived from the KEK (Keys.HashRecoveryCode).
const recoveryCodeChars = 10

// recoveryEncoding writes codes in lower-case base32: no 0/1/8/9 to
// confuse with letters.
var recoveryEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewRecoveryCodes returns RecoveryCodeCount fresh codes from crypto/rand,
// each shown as two groups of five ("k7qmz-2xhpa").
func NewRecoveryCodes() ([]string, error) {
	out := make([]string, RecoveryCodeCount)
	seen := map[string]bool{}
	for i := 0; i < len(out); {
		b := make([]byte, 7) // 56 bits, of which the first 50 are used
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("mfa: reading random recovery code: %w", err)
		}
		c := recoveryEncoding.EncodeToString(b)[:recoveryCodeChars]
		if seen[c] {
			continue
		}
		seen[c] = true
		out[i] = c[:5] + "-" + c[5:]
		i++
	}
	return out, nil
}

// NormalizeRecoveryCode returns code in its stored form (lower case,
// without spaces or hyphens) when it has the shape of a recovery code.
func NormalizeRecoveryCode(code string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.ToLower(code) {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			continue
		case (r >= 'a' && r <= 'z') || (r >= '2' && r <= '7'):
			b.WriteRune(r)
		default:
			return "", false
		}
		if b.Len() > recoveryCodeChars {
			return "", false
		}
	}
	if b.Len() != recoveryCodeChars {
		return "", false
	}
	return b.String(), true
}
