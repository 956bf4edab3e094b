package pin

import (
	"slices"
	"strings"
)

// Length bounds, in digits.
const (
	MinLength = 6
	MaxLength = 12
)

// Violation codes, in Error.Code.
const (
	CodeNotDigits = "not_digits"
	CodeTooShort  = "too_short"
	CodeTooLong   = "too_long"
	CodeRepeated  = "repeated"
	CodeRun       = "run"
	CodeCommon    = "common"
	CodeInPhone   = "in_phone"
)

// Error says why a PIN is refused, in words fit for the person choosing it.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return "pin: " + e.Message }

// Context is what a PIN must not be taken from.
type Context struct {
	Phone string // the clinician's number, E.164; its digits are off limits
}

// common are the most chosen 6- to 8-digit PINs that no rule below already
// refuses (keypad shapes, mirrored runs, well-known sequences), after the
// published analyses of leaked PIN sets.
var common = []string{
	"112233", "123321", "654456", "159753", "357951", "147258", "258369", "369258",
	"147852", "258741", "963852", "741852", "852963", "789456", "123654", "987456",
	"159357", "753951", "102030", "010203", "112211", "998877", "778899", "142536",
	"123789", "147369", "963741", "159951", "121314", "246810", "135790", "314159",
	"11223344", "11112222", "456789123", "147258369", "741852963", "789456123",
}

// Check reports why pin may not be used, or nil. It never looks at more than
// MaxLength+1 characters.
func Check(pin string, c Context) error {
	switch {
	case len(pin) > MaxLength:
		return &Error{CodeTooLong, "Your PIN can have at most 12 digits."}
	case strings.IndexFunc(pin, func(r rune) bool { return r < '0' || r > '9' }) >= 0:
		return &Error{CodeNotDigits, "Your PIN must be digits only (0–9)."}
	case len(pin) < MinLength:
		return &Error{CodeTooShort, "Your PIN needs at least 6 digits."}
	case repeated(pin):
		return &Error{CodeRepeated, "Your PIN must not repeat one digit or one group of digits."}
	case run(pin):
		return &Error{CodeRun, "Your PIN must not be a run of digits like 123456 or 987654."}
	case slices.Contains(common, pin):
		return &Error{CodeCommon, "That PIN is one of the most common ones; choose another."}
	case inPhone(pin, c.Phone):
		return &Error{CodeInPhone, "Your PIN must not be taken from your phone number."}
	}
	return nil
}

// repeated reports whether pin is one block of at most half its length
// written again and again (111111, 121212, 123123, 12341234).
func repeated(pin string) bool {
	for n := 1; n <= len(pin)/2; n++ {
		if len(pin)%n == 0 && strings.Repeat(pin[:n], len(pin)/n) == pin {
			return true
		}
	}
	return false
}

// run reports whether every digit is one more than the last (wrapping from
// 9 to 0), or every digit one less.
func run(pin string) bool {
	up, down := true, true
	for i := 1; i < len(pin); i++ {
		d := (int(pin[i]) - int(pin[i-1]) + 10) % 10
		up = up && d == 1
		down = down && d == 9
	}
	return up || down
}

// inPhone reports whether pin appears among the digits of phone.
func inPhone(pin, phone string) bool {
	digits := strings.TrimPrefix(phone, "+")
	return digits != "" && strings.Contains(digits, pin)
}
