package password

import (
	"fmt"
	"log/slog"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
)

// Policy bounds, following NIST SP 800-63B rev. 4.
const (
	// AbsoluteMinLength is the lowest minimum length a Policy may have.
	AbsoluteMinLength = 8
	// DefaultMinLength is the minimum length for single-factor passwords.
	DefaultMinLength = 15
	// DefaultMaxLength is the maximum accepted length, in code points.
	DefaultMaxLength = 256
	// DefaultProductName is the product name passwords must not contain.
	DefaultProductName = "CliniConnects"
)

// Violation codes returned in Violation.Code.
const (
	CodeInvalidUTF8     = "invalid_utf8"
	CodeTooShort        = "too_short"
	CodeTooLong         = "too_long"
	CodeContainsEmail   = "contains_email"
	CodeContainsName    = "contains_name"
	CodeContainsProduct = "contains_product"
	CodeTooGuessable    = "too_guessable"
)

const (
	// minEmailLocalLen is the shortest email local part that passwords
	// may not contain; shorter ones would reject too many passwords.
	minEmailLocalLen = 4
	// minNameLen is the shortest given or family name that passwords may
	// not contain.
	minNameLen = 3
	// minGuessScore is the lowest acceptable zxcvbn score (0-4).
	minGuessScore = 3
	// zxcvbnMaxBytes caps the input given to zxcvbn. Its cost grows
	// roughly cubically with length and with the number of l33t
	// characters: a 256-character input takes 0.2-2 s and an adversarial
	// 100-byte input about 0.7 s, while the worst 32-byte inputs measured
	// take about 30 ms. Longer passwords are judged on their first 32
	// bytes (cut at a character boundary).
	zxcvbnMaxBytes = 32
)

// Policy decides whether a new password is acceptable. Lengths are counted
// in Unicode code points. There are no composition rules.
//
// Use DefaultPolicy or NewPolicy. A zero MinLength or one below
// AbsoluteMinLength is treated as AbsoluteMinLength, a MaxLength of zero
// as DefaultMaxLength, and an empty ProductName skips the product check.
type Policy struct {
	MinLength   int
	MaxLength   int
	ProductName string
}

// DefaultPolicy returns the policy for CliniConnects: 15 to 256 characters.
func DefaultPolicy() Policy {
	return Policy{
		MinLength:   DefaultMinLength,
		MaxLength:   DefaultMaxLength,
		ProductName: DefaultProductName,
	}
}

// NewPolicy returns DefaultPolicy with the given minimum length, which must
// be between 8 and 256 (it is configured by IDP_PASSWORD_MIN_LENGTH).
func NewPolicy(minLength int) (Policy, error) {
	if minLength < AbsoluteMinLength || minLength > DefaultMaxLength {
		return Policy{}, fmt.Errorf("IDP_PASSWORD_MIN_LENGTH must be between %d and %d (got %d)",
			AbsoluteMinLength, DefaultMaxLength, minLength)
	}
	p := DefaultPolicy()
	p.MinLength = minLength
	return p, nil
}

// Context is what is known about the user the password is for. Its
// fields are personal data: its LogValue reports only which are set.
type Context struct {
	Email      string
	GivenName  string
	FamilyName string
}

// LogValue implements slog.LogValuer without revealing personal data.
func (c Context) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("email_set", c.Email != ""),
		slog.Bool("given_name_set", c.GivenName != ""),
		slog.Bool("family_name_set", c.FamilyName != ""),
	)
}

// Violation is the error Check returns when a password is refused. Message
// is a sentence that can be shown to the user; Code is stable for clients
// and translations. Neither contains the password.
type Violation struct {
	Code    string
	Message string
}

func (v *Violation) Error() string { return v.Message }

// Check returns nil when pw is acceptable for the user described by ctx,
// and otherwise a *Violation explaining why not. Checks run in this order:
// valid UTF-8, minimum length, maximum length, email, names, product name,
// guessability.
func (p Policy) Check(pw string, ctx Context) error {
	if v := p.check(pw, ctx); v != nil {
		return v
	}
	return nil
}

func (p Policy) check(pw string, ctx Context) *Violation {
	minLen, maxLen := p.MinLength, p.MaxLength
	if minLen < AbsoluteMinLength {
		minLen = AbsoluteMinLength
	}
	if maxLen <= 0 {
		maxLen = DefaultMaxLength
	}

	if !utf8.ValidString(pw) {
		return &Violation{CodeInvalidUTF8,
			"Your password contains characters that could not be read. Please type it again."}
	}
	n := utf8.RuneCountInString(pw)
	if n < minLen {
		return &Violation{CodeTooShort,
			fmt.Sprintf("Your password must be at least %d characters long.", minLen)}
	}
	if n > maxLen {
		return &Violation{CodeTooLong,
			fmt.Sprintf("Your password must be at most %d characters long.", maxLen)}
	}

	lower := strings.ToLower(pw)
	email := strings.TrimSpace(ctx.Email)
	local := emailLocalPart(email)
	if contains(lower, email, 1) || contains(lower, local, minEmailLocalLen) {
		return &Violation{CodeContainsEmail,
			"Your password must not contain your email address."}
	}
	given, family := strings.TrimSpace(ctx.GivenName), strings.TrimSpace(ctx.FamilyName)
	if contains(lower, given, minNameLen) || contains(lower, family, minNameLen) {
		return &Violation{CodeContainsName,
			"Your password must not contain your name."}
	}
	product := strings.TrimSpace(p.ProductName)
	if contains(lower, product, 1) {
		return &Violation{CodeContainsProduct,
			fmt.Sprintf("Your password must not contain the name %s.", product)}
	}

	inputs := userInputs(email, local, given, family, product)
	if zxcvbn.PasswordStrength(truncateUTF8(pw, zxcvbnMaxBytes), inputs).Score < minGuessScore {
		return &Violation{CodeTooGuessable,
			"Your password is too easy to guess. Try a longer phrase of several unrelated words, " +
				"and avoid common phrases, repeated characters, keyboard patterns and dates."}
	}
	return nil
}

// contains reports whether lowerPW contains sub, ignoring case, when sub
// has at least minRunes code points.
func contains(lowerPW, sub string, minRunes int) bool {
	if sub == "" || utf8.RuneCountInString(sub) < minRunes {
		return false
	}
	return strings.Contains(lowerPW, strings.ToLower(sub))
}

func emailLocalPart(email string) string {
	if i := strings.LastIndexByte(email, '@'); i >= 0 {
		return email[:i]
	}
	return ""
}

// userInputs lists the user-specific words zxcvbn should treat as very
// guessable: the given values and their alphanumeric pieces.
func userInputs(values ...string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		s = strings.ToLower(s)
		if utf8.RuneCountInString(s) >= minNameLen && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, v := range values {
		add(v)
		for _, f := range strings.FieldsFunc(v, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		}) {
			add(f)
		}
	}
	return out
}

// truncateUTF8 returns the longest prefix of s that has at most n bytes
// and ends on a character boundary. s must be valid UTF-8.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
