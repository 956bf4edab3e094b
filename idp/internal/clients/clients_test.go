package clients

import (
	"errors"
	"strings"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

func TestValidate(t *testing.T) {
	secret := strings.Repeat("s", MinSecretLength)
	ok := NewClient{ID: "billing", Secret: secret, RedirectURIs: []string{"https://billing.example.com/cb"}}
	for _, tc := range []struct {
		name  string
		edit  func(*NewClient)
		field string // "" = valid
	}{
		{"valid confidential", func(*NewClient) {}, ""},
		{"valid public loopback", func(c *NewClient) {
			c.Secret, c.Public, c.RedirectURIs = "", true, []string{"http://127.0.0.1:49152/cb"}
		}, ""},
		{"valid native scheme", func(c *NewClient) {
			c.Secret, c.Public, c.RedirectURIs = "", true, []string{"com.cliniconnects.mobile:/cb"}
		}, ""},
		{"bad id", func(c *NewClient) { c.ID = "no spaces" }, "id"},
		{"short secret", func(c *NewClient) { c.Secret = "short" }, "secret"},
		{"public with secret", func(c *NewClient) { c.Public = true }, "secret"},
		{"no redirect", func(c *NewClient) { c.RedirectURIs = nil }, "redirect_uri"},
		{"fragment", func(c *NewClient) { c.RedirectURIs = []string{"https://a.example/cb#x"} }, "redirect_uri"},
		{"relative", func(c *NewClient) { c.RedirectURIs = []string{"/cb"} }, "redirect_uri"},
		{"http remote", func(c *NewClient) { c.RedirectURIs = []string{"http://a.example/cb"} }, "redirect_uri"},
		{"bad logout uri", func(c *NewClient) { c.PostLogoutRedirectURIs = []string{"javascript:alert(1)"} }, "post_logout_redirect_uri"},
		{"unknown grant", func(c *NewClient) { c.GrantTypes = []string{"password"} }, "grant"},
		{"public client_credentials", func(c *NewClient) {
			c.Secret, c.Public, c.GrantTypes = "", true, []string{storage.GrantClientCredentials}
		}, "grant"},
		{"service without redirect", func(c *NewClient) { c.RedirectURIs, c.GrantTypes = nil, []string{storage.GrantClientCredentials} }, ""},
		{"unknown role", func(c *NewClient) { c.AdmitRoles = []storage.Role{"root"} }, "admit_role"},
		{"unknown type", func(c *NewClient) { c.AdmitTypes = []storage.UserType{"robot"} }, "admit_type"},
		{"unknown scope", func(c *NewClient) { c.Scopes = []string{"everything"} }, "scope"},
		{"phone sign-in", func(c *NewClient) {
			c.Secret, c.Public, c.RedirectURIs, c.SignInMethod = "", true, []string{"com.cliniconnects.mobile:/cb"}, storage.SignInPhone
		}, ""},
		{"phone sign-in admitting employees", func(c *NewClient) {
			c.SignInMethod, c.AdmitTypes = storage.SignInPhone, []storage.UserType{storage.UserTypeEmployee}
		}, "sign_in"},
		{"phone sign-in admitting a role", func(c *NewClient) {
			c.SignInMethod, c.AdmitRoles = storage.SignInPhone, []storage.Role{storage.RoleAdmin}
		}, "sign_in"},
		{"phone sign-in service", func(c *NewClient) {
			c.SignInMethod, c.RedirectURIs, c.GrantTypes = storage.SignInPhone, nil, []string{storage.GrantClientCredentials}
		}, "sign_in"},
		{"phone sign-in requiring two factors", func(c *NewClient) {
			c.Secret, c.Public, c.RedirectURIs, c.SignInMethod = "", true, []string{"com.cliniconnects.mobile:/cb"}, storage.SignInPhone
			c.RequireMFA = true
		}, "sign_in"},
		{"unknown sign-in", func(c *NewClient) { c.SignInMethod = "face" }, "sign_in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			_, err := Validate(c)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if !IsValidation(err) || !strings.HasPrefix(err.Error(), tc.field+":") {
				t.Fatalf("want error on %s, got %v", tc.field, err)
			}
		})
	}
}

// A phone sign-in client admits clinicians only; an email one is stored as
// email.
func TestValidateSignInMethod(t *testing.T) {
	c, err := Validate(NewClient{ID: "mobile", Public: true, RedirectURIs: []string{"com.cliniconnects.mobile:/cb"},
		SignInMethod: storage.SignInPhone, AdmitTypes: []storage.UserType{storage.UserTypeClinician}})
	if err != nil || !c.PhoneSignIn() || len(c.AdmitTypes) != 1 || c.AdmitTypes[0] != storage.UserTypeClinician {
		t.Fatalf("phone client: %+v, %v", c, err)
	}
	c, err = Validate(NewClient{ID: "mobile", Public: true, RedirectURIs: []string{"com.cliniconnects.mobile:/cb"}, SignInMethod: storage.SignInPhone})
	if err != nil || len(c.AdmitTypes) != 1 || c.AdmitTypes[0] != storage.UserTypeClinician {
		t.Fatalf("phone client without admit rules: %+v, %v", c, err)
	}
	c, err = Validate(NewClient{ID: "web", Secret: strings.Repeat("s", MinSecretLength), RedirectURIs: []string{"https://web.example.com/cb"}})
	if err != nil || c.SignInMethod != storage.SignInEmail || c.PhoneSignIn() {
		t.Fatalf("default: %+v, %v", c, err)
	}
}

// TestHashSecret: a generated secret is stored as its SHA-256 digest, a
// chosen one with argon2id, and both verify; a chosen secret passed as
// generated is refused.
func TestHashSecret(t *testing.T) {
	h := password.Hasher{Params: password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}}
	gen := password.GenerateSecret()
	stored, err := HashSecret(h, gen, true)
	if err != nil || !password.IsGeneratedHash(stored) {
		t.Fatalf("HashSecret(generated) = %q, %v; want the SHA-256 form", stored, err)
	}
	if ok, err := h.VerifySecret(gen, stored); !ok || err != nil {
		t.Fatalf("VerifySecret(generated) = %v, %v", ok, err)
	}
	chosen := strings.Repeat("chosen-", 6)
	stored, err = HashSecret(h, chosen, false)
	if err != nil || !strings.HasPrefix(stored, "$argon2id$") {
		t.Fatalf("HashSecret(chosen) = %q, %v; want argon2id", stored, err)
	}
	if ok, err := h.VerifySecret(chosen, stored); !ok || err != nil {
		t.Fatalf("VerifySecret(chosen) = %v, %v", ok, err)
	}
	if _, err := HashSecret(h, chosen, true); !errors.Is(err, password.ErrNotGenerated) {
		t.Fatalf("HashSecret(chosen, generated=true) = %v, want ErrNotGenerated", err)
	}
}
