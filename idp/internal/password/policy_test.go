package password

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var maria = Context{Email: "maria.gonzalez@example.org", GivenName: "Maria", FamilyName: "Gonzalez"}

func TestDefaultPolicy(t *testing.T) {
	p := DefaultPolicy()
	if p.MinLength != 15 || p.MaxLength != 256 || p.ProductName != "CliniConnects" {
		t.Fatalf("DefaultPolicy() = %+v", p)
	}
}

func TestNewPolicy(t *testing.T) {
	tests := []struct {
		min     int
		wantErr bool
	}{
		{-1, true}, {0, true}, {7, true}, {8, false}, {15, false}, {64, false}, {256, false}, {257, true}, {1000, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.min), func(t *testing.T) {
			p, err := NewPolicy(tt.min)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "IDP_PASSWORD_MIN_LENGTH must be between 8 and 256") {
					t.Fatalf("NewPolicy(%d) error = %v, want range error", tt.min, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewPolicy(%d) error: %v", tt.min, err)
			}
			want := DefaultPolicy()
			want.MinLength = tt.min
			if p != want {
				t.Fatalf("NewPolicy(%d) = %+v, want %+v", tt.min, p, want)
			}
		})
	}
}

func TestCheckRejects(t *testing.T) {
	tests := []struct {
		name string
		pw   string
		ctx  Context
		code string
	}{
		{"invalid utf8", "orbit velvet lantern \xff\xfe cactus", maria, CodeInvalidUTF8},
		{"invalid utf8 beats too short", "\xff", maria, CodeInvalidUTF8},
		{"too short", "orbit velvet", maria, CodeTooShort},
		{"too short counts code points not bytes", strings.Repeat("🐴", 14), maria, CodeTooShort},
		{"too short beats contains name", "maria", maria, CodeTooShort},
		{"too long", strings.Repeat("a", 257), maria, CodeTooLong},
		{"too long in code points", strings.Repeat("ä", 257), maria, CodeTooLong},
		{"contains email", "my login is maria.gonzalez@example.org ok", maria, CodeContainsEmail},
		{"contains email, other case", "MARIA.GONZALEZ@EXAMPLE.ORG orbit velvet", maria, CodeContainsEmail},
		{"contains email local part", "orbit Maria.Gonzalez velvet lantern", maria, CodeContainsEmail},
		{"contains 4-char local part", "purple jose walks over seventeen fences", Context{Email: "jose@example.org"}, CodeContainsEmail},
		{"contains given name", "violet maria jumps over seventeen fences", maria, CodeContainsName},
		{"contains family name, other case", "GONZALEZ orbit velvet lantern cactus", maria, CodeContainsName},
		{"contains 3-char name", "the eve of orbit velvet lantern cactus", Context{GivenName: "Eve"}, CodeContainsName},
		{"contains unicode name, other case", "orbit ÖZIL velvet lantern cactus", Context{FamilyName: "Özil"}, CodeContainsName},
		{"contains product", "cliniconnects is my favourite portal", maria, CodeContainsProduct},
		{"contains product, other case", "orbit CLINICONNECTS velvet lantern", Context{}, CodeContainsProduct},
		{"too guessable: repeated word", "passwordpassword123", maria, CodeTooGuessable},
		{"too guessable: two common passwords", "baseballfootball", maria, CodeTooGuessable},
		{"too guessable: one character", strings.Repeat("a", 20), maria, CodeTooGuessable},
		{"too guessable: keyboard walk", "qwertyuiopasdfghjkl", maria, CodeTooGuessable},
		{"too guessable: digits", "1234567890123456", maria, CodeTooGuessable},
		{"too guessable: long repetition", strings.Repeat("abc", 80), maria, CodeTooGuessable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := DefaultPolicy().Check(tt.pw, tt.ctx)
			var v *Violation
			if !errors.As(err, &v) {
				t.Fatalf("Check(%q) = %v, want *Violation %s", tt.pw, err, tt.code)
			}
			if v.Code != tt.code {
				t.Fatalf("Check(%q) code = %s (%q), want %s", tt.pw, v.Code, v.Message, tt.code)
			}
			if v.Error() != v.Message || v.Message == "" || !strings.HasSuffix(v.Message, ".") {
				t.Fatalf("Violation message %q is not a user-facing sentence", v.Message)
			}
			if strings.Contains(v.Message, tt.pw) {
				t.Fatalf("Violation message %q contains the password", v.Message)
			}
		})
	}
}

func TestCheckMessages(t *testing.T) {
	p, err := NewPolicy(20)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Check("orbit velvet lantern", maria) // 20 code points: fine length-wise
	if err != nil {
		t.Fatalf("Check(20 chars) = %v, want nil", err)
	}
	err = p.Check("orbit velvet lanter", maria)
	if err == nil || err.Error() != "Your password must be at least 20 characters long." {
		t.Fatalf("Check(19 chars) = %v", err)
	}
	err = p.Check("orbit cliniconnects velvet lantern", maria)
	if err == nil || !strings.Contains(err.Error(), "CliniConnects") {
		t.Fatalf("contains_product message = %v, want it to name the product", err)
	}
	err = p.Check("passwordpasswordpassword", maria)
	if err == nil || !strings.Contains(err.Error(), "too easy to guess") {
		t.Fatalf("too_guessable message = %v", err)
	}
}

func TestCheckAccepts(t *testing.T) {
	long := ""
	for _, w := range strings.Fields("velvet orbit 🐴 lantern cactus Äpfel saxophone quilt marble tundra 日本語 fjord pelican") {
		if utf8.RuneCountInString(long)+1+utf8.RuneCountInString(w) > 256 {
			break
		}
		long += w + " "
	}
	for utf8.RuneCountInString(long) < 256 {
		long += "z"
	}
	if n := utf8.RuneCountInString(long); n != 256 {
		t.Fatalf("test setup: long password has %d code points", n)
	}

	tests := []struct {
		name string
		pw   string
		ctx  Context
	}{
		{"unicode passphrase", "correct horse battery staple 🐴 ÄÖÜ", maria},
		{"strong long passphrase", "purple elephants juggle seventeen lanterns beneath Tuesday's fog", maria},
		{"exactly minimum length", "orbit velvet 7q!", maria},
		{"spaces and punctuation", "  ice, fjord & pelican — quietly!  ", maria},
		{"256 characters", long, maria},
		{"email local part under 4 chars", "elbow tundra saxophone quilt marble", Context{Email: "bo@example.org"}},
		{"name under 3 chars", "walrus galaxy tulip meadow crystal", Context{GivenName: "Al", FamilyName: "Wu"}},
		{"empty context", "walrus galaxy tulip meadow crystal", Context{}},
		{"control characters are allowed", "walrus\tgalaxy\ttulip\nmeadow crystal", maria},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := DefaultPolicy().Check(tt.pw, tt.ctx); err != nil {
				t.Fatalf("Check(%q) = %v, want nil", tt.pw, err)
			}
		})
	}

	t.Run("256 characters are hashable", func(t *testing.T) {
		h := cheapHasher()
		phc, err := h.Hash(long)
		if err != nil {
			t.Fatal(err)
		}
		if ok, _, err := h.Verify(long, phc); !ok || err != nil {
			t.Fatalf("Verify(256 chars) = %v, %v", ok, err)
		}
		if ok, _, _ := h.Verify(long[:len(long)-1], phc); ok {
			t.Fatal("Verify(255 chars) = true")
		}
	})
}

func TestCheckReturnsUntypedNil(t *testing.T) {
	var err error = DefaultPolicy().Check("walrus galaxy tulip meadow crystal", Context{})
	if err != nil {
		t.Fatalf("Check() = %#v, want untyped nil", err)
	}
}

func TestZeroPolicyFloor(t *testing.T) {
	var p Policy
	var v *Violation
	if err := p.Check("Xq7#vK2!", Context{}); err != nil && errors.As(err, &v) && v.Code == CodeTooShort {
		t.Fatalf("zero Policy rejected an 8-character password as too short: %v", err)
	}
	if err := p.Check("Xq7#vK2", Context{}); !errors.As(err, &v) || v.Code != CodeTooShort {
		t.Fatalf("zero Policy accepted a 7-character password: %v", err)
	}
	if err := p.Check(strings.Repeat("x", 257), Context{}); !errors.As(err, &v) || v.Code != CodeTooLong {
		t.Fatalf("zero Policy accepted 257 characters: %v", err)
	}
}

// TestCheckCostIsBounded guards the zxcvbn input cap: uncapped, this
// l33t-heavy 256-character input takes seconds.
func TestCheckCostIsBounded(t *testing.T) {
	pw := strings.Repeat("4@8({[<3691!|70$5+%2", 13)[:256]
	start := time.Now()
	_ = DefaultPolicy().Check(pw, maria)
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Check(256 l33t characters) took %v", d)
	}
}

func TestTruncateUTF8(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abcdef", 3, "abc"},
		{"ab🐴", 3, "ab"},
		{"ab🐴", 5, "ab"},
		{"ab🐴", 6, "ab🐴"},
		{"ää", 3, "ä"},
	}
	for _, tt := range tests {
		if got := truncateUTF8(tt.in, tt.n); got != tt.want {
			t.Errorf("truncateUTF8(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestContextLogValueRedacts(t *testing.T) {
	var sb strings.Builder
	slog.New(slog.NewTextHandler(&sb, nil)).Info("check", "ctx", maria)
	out := sb.String()
	for _, secret := range []string{maria.Email, maria.GivenName, maria.FamilyName} {
		if strings.Contains(out, secret) {
			t.Fatalf("log output %q reveals %q", out, secret)
		}
	}
	if !strings.Contains(out, "email_set=true") {
		t.Fatalf("log output %q lacks email_set=true", out)
	}
}
