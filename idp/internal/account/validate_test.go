package account

import (
	"errors"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

func TestNormalizeEmail(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Ann@Example.COM", "Ann@example.com"},
		{"a.b+tag@sub.example.org", "a.b+tag@sub.example.org"},
		{"", ""},
		{"no-at-sign", ""},
		{"Ann <ann@example.com>", ""},
		{" ann@example.com", ""},
		{"ann@", ""},
	} {
		got, err := NormalizeEmail(tc.in)
		if tc.want == "" {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "email" {
				t.Errorf("NormalizeEmail(%q) = %q, %v; want email field error", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"+1 415 555 0123", "+14155550123"},
		{"+44 20 7946 0958", "+442079460958"},
		{"+4915123456789", "+4915123456789"},
		{"", ""},
		{"4155550123", "!"},
		{"+1 555", "!"},
		{"+999 12345", "!"},
		{"phone", "!"},
	} {
		got, err := NormalizePhone(tc.in)
		if tc.want == "!" {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "phone" {
				t.Errorf("NormalizePhone(%q) = %q, %v; want phone field error", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestCheckRoles(t *testing.T) {
	got, err := checkRoles([]storage.Role{"assigning_manager", "super_admin", "assigning_manager"})
	if err != nil || len(got) != 2 || got[0] != storage.RoleSuperAdmin || got[1] != storage.RoleAssigningManager {
		t.Fatalf("checkRoles = %v, %v", got, err)
	}
	if _, err := checkRoles([]storage.Role{"root"}); err == nil {
		t.Fatal("unknown role accepted")
	}
}

func TestRandomPassword(t *testing.T) {
	a, b := RandomPassword(), RandomPassword()
	if a == b || len(a) != 29 {
		t.Fatalf("RandomPassword: %q %q", a, b)
	}
}
