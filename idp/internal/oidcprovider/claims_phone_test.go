package oidcprovider

import (
	"context"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// phone_number_verified is true only for the number the mobile credential
// confirmed by SMS; any other number, or none confirmed, is false.
func TestPhoneNumberVerifiedClaim(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			f := newFixture(t, b.dsn(t))
			ctx := context.Background()
			u, err := f.st.UpdateUser(ctx, f.user.ID, 0, func(u *storage.User) error { u.Phone = "+14155550123"; return nil })
			if err != nil {
				t.Fatal(err)
			}
			claim := func() any {
				t.Helper()
				var info oidc.UserInfo
				if err := f.s.setUserClaims(ctx, &info, u, []string{oidc.ScopeOpenID, oidc.ScopePhone}); err != nil {
					t.Fatal(err)
				}
				if info.PhoneNumber != u.Phone {
					t.Fatalf("phone_number %q", info.PhoneNumber)
				}
				return info.Claims["phone_number_verified"]
			}
			if v := claim(); v != false {
				t.Fatalf("without a confirmation: %v", v)
			}
			confirm := func(phone string) {
				_, err := f.st.UpdateMobileCredential(ctx, u.ID, func(c *storage.MobileCredential) error {
					c.Phone, c.PhoneVerifiedAt = phone, time.Now()
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			confirm("+14155550199") // another number
			if v := claim(); v != false {
				t.Fatalf("confirmed for another number: %v", v)
			}
			confirm(u.Phone)
			if v := claim(); v != true {
				t.Fatalf("confirmed by SMS: %v", v)
			}
			var info oidc.UserInfo
			if err := f.s.setUserClaims(ctx, &info, u, []string{oidc.ScopeOpenID}); err != nil || info.PhoneNumber != "" {
				t.Fatalf("without scope phone: %+v, %v", info, err)
			}
		})
	}
}
