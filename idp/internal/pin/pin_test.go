package pin

import (
	"errors"
	"strings"
	"testing"
)

// messages are the fixed messages, one per code.
var messages = map[string]string{}

func init() {
	for code, p := range map[string]string{CodeTooShort: "1", CodeTooLong: "1234567890123", CodeNotDigits: "12345x",
		CodeRepeated: "000000", CodeRun: "345678", CodeCommon: "159753", CodeInPhone: "555012"} {
		var e *Error
		if errors.As(Check(p, Context{Phone: "+14155550123"}), &e) {
			messages[code] = e.Message
		}
	}
}

func TestCheck(t *testing.T) {
	phone := "+14155550123"
	for _, tc := range []struct {
		pin  string
		code string // "" accepted
	}{
		{"", CodeTooShort},
		{"12345", CodeTooShort},
		{"1234567890123", CodeTooLong},
		{strings.Repeat("7", 10000), CodeTooLong},
		{"12a456", CodeNotDigits},
		{"12 456", CodeNotDigits},
		{"１２３４５６", CodeTooLong},   // full-width digits: 18 bytes, not ASCII
		{"١٢٣٤٥٦", CodeNotDigits}, // Arabic-Indic digits: 12 bytes
		{"73٢٤٥6", CodeNotDigits},
		{"000000", CodeRepeated},
		{"999999999999", CodeRepeated},
		{"121212", CodeRepeated},
		{"123123", CodeRepeated},
		{"12341234", CodeRepeated},
		{"123456", CodeRun},
		{"234567", CodeRun},
		{"987654", CodeRun},
		{"3210987", CodeRun},
		{"890123", CodeRun},
		{"123456789012", CodeRun},
		{"654321", CodeRun},
		{"112233", CodeCommon},
		{"159753", CodeCommon},
		{"147258", CodeCommon},
		{"123321", CodeCommon},
		{"555012", CodeInPhone},
		{"4155550123", CodeInPhone},
		{"141555", CodeInPhone},
		{"583920", ""},
		{"804617", ""},
		{"2718281", ""},
		{"902114357865", ""},
		{"123457", ""},
		{"112234", ""},
	} {
		t.Run(tc.pin, func(t *testing.T) {
			err := Check(tc.pin, Context{Phone: phone})
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Check(%q) = %v, want accepted", tc.pin, err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != tc.code {
				t.Fatalf("Check(%q) = %v, want code %s", tc.pin, err, tc.code)
			}
			if e.Message == "" || e.Message != messages[tc.code] {
				t.Fatalf("message %q: want the fixed message of %s, never one built from the PIN", e.Message, tc.code)
			}
		})
	}
}

// Without a phone number, nothing is refused for being in one.
func TestCheckWithoutPhone(t *testing.T) {
	if err := Check("555012", Context{}); err != nil {
		t.Fatal(err)
	}
}

// The common list holds only PINs that are otherwise valid: an entry the
// other rules refuse is dead weight.
func TestCommonListIsNotRedundant(t *testing.T) {
	for _, p := range common {
		if len(p) < MinLength || len(p) > MaxLength || repeated(p) || run(p) {
			t.Errorf("%q in the common list is refused by another rule or out of bounds", p)
		}
	}
}
