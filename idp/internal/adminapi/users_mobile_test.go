package adminapi_test

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

var smsCodeRE = regexp.MustCompile(`code[^:]*: ([0-9]{6})\n`)

// lastSMSCode is the code of the newest SMS queued to phone.
func (f *fixture) lastSMSCode(phone string) string {
	f.t.Helper()
	msgs, err := f.store.ListMessages(context.Background(), storage.MessageQuery{Limit: 500})
	if err != nil {
		f.t.Fatal(err)
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Channel != notify.ChannelSMS || msgs[i].To != phone {
			continue
		}
		s, err := f.outbox.OpenSMS(msgs[i])
		if err != nil {
			f.t.Fatal(err)
		}
		if m := smsCodeRE.FindStringSubmatch(s.Body); m != nil {
			return m[1]
		}
	}
	f.t.Fatalf("no SMS code to %s", phone)
	return ""
}

// mobileGrants gives u a refresh token of a phone sign-in client and one of
// an email client.
func (f *fixture) mobileGrants(u storage.User) (phoneToken, emailToken string) {
	f.t.Helper()
	ctx := context.Background()
	now := f.clock.Now()
	phone, err := f.store.CreateClient(ctx, storage.Client{ID: "mobile-" + randHex(3), Public: true, SignInMethod: storage.SignInPhone,
		RedirectURIs: []string{"com.cliniconnects.mobile:/callback"}, AdmitTypes: []storage.UserType{storage.UserTypeClinician}})
	if err != nil {
		f.t.Fatal(err)
	}
	web := f.oidcClient()
	phoneToken, emailToken = "rt-"+randHex(8), "rt-"+randHex(8)
	for tok, client := range map[string]string{phoneToken: phone.ID, emailToken: web.ID} {
		err := f.store.CreateRefreshToken(ctx, storage.RefreshToken{IDHash: tok, FamilyID: "fam-" + tok, ClientID: client,
			UserID: u.ID, AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour), Device: "CliniConnects/2.1 (iPhone)"})
		if err != nil {
			f.t.Fatal(err)
		}
	}
	return phoneToken, emailToken
}

func (f *fixture) revoked(hash string) bool {
	f.t.Helper()
	rt, err := f.store.GetRefreshToken(context.Background(), hash)
	if err != nil {
		f.t.Fatal(err)
	}
	return !rt.RevokedAt.IsZero()
}

// auditActions lists the actions recorded about target by actor.
func (f *fixture) auditBy(target, actor string) []string {
	var out []string
	for _, e := range f.audit(target) {
		if e.ActorID == actor {
			out = append(out, e.Action)
		}
	}
	return out
}

func TestClinicianMobileCredential(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		admin := f.active(storage.UserTypeEmployee, storage.RoleAdmin)
		c := f.client(admin)
		clin := f.active(storage.UserTypeClinician)

		got, err := c.GetClinicianMobile(ctx, clin.ID)
		if err != nil || got.State != api.MobileNone || got.Phone != clin.Phone || got.PhoneVerified || got.Sessions == nil || len(got.Sessions) != 0 {
			t.Fatalf("fresh: %+v, %v", got, err)
		}

		got, err = c.SendClinicianMobileActivation(ctx, clin.ID)
		if err != nil || got.State != api.MobilePending {
			t.Fatalf("after sending activation: %+v, %v", got, err)
		}
		ticket, err := f.mobile.VerifyActivationCode(ctx, clin.Phone, f.lastSMSCode(clin.Phone), "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.mobile.SetPIN(ctx, ticket, "583920", ""); err != nil {
			t.Fatal(err)
		}
		phoneTok, emailTok := f.mobileGrants(clin)
		got, err = c.GetClinicianMobile(ctx, clin.ID)
		if err != nil || got.State != api.MobileActive || !got.PhoneVerified || got.ActivatedAt == nil || len(got.Sessions) != 1 {
			t.Fatalf("active: %+v, %v", got, err)
		}
		if s := got.Sessions[0]; s.Kind != "tokens" || s.Device != "CliniConnects/2.1 (iPhone)" || s.LastUsedAt.IsZero() {
			t.Fatalf("mobile session %+v", s)
		}

		if err := c.EndClinicianMobileSessions(ctx, clin.ID); err != nil {
			t.Fatal(err)
		}
		if !f.revoked(phoneTok) || f.revoked(emailTok) {
			t.Fatalf("after ending mobile sessions: phone token revoked %v, email token revoked %v", f.revoked(phoneTok), f.revoked(emailTok))
		}
		got, err = c.ResetClinicianMobile(ctx, clin.ID)
		if err != nil || got.State != api.MobileNone || got.ActivatedAt != nil || !got.PhoneVerified {
			t.Fatalf("after reset: %+v, %v", got, err)
		}
		want := []string{api.ActionClinicianMobileReset, api.ActionClinicianMobileEndSessions, api.ActionClinicianMobileActivation}
		if got := f.auditBy(clin.ID, admin.ID); !slices.Equal(got, want) {
			t.Fatalf("audit by the admin %v, want %v", got, want)
		}
		for _, e := range f.audit(clin.ID) {
			if e.Action == api.ActionClinicianMobileReset {
				if ch := e.Changes["mobile_state"]; ch[0] != "active" || ch[1] != "none" {
					t.Errorf("reset audit changes %v", e.Changes)
				}
			}
		}
	})
}

func TestClinicianMobileRefusals(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		clin := f.active(storage.UserTypeClinician)
		emp := f.active(storage.UserTypeEmployee)
		super := f.client(f.active(storage.UserTypeEmployee, storage.RoleSuperAdmin))
		manager := f.client(f.active(storage.UserTypeEmployee, storage.RoleAssigningManager))

		calls := map[string]func(c *api.Client, id string) error{
			"get":        func(c *api.Client, id string) error { _, err := c.GetClinicianMobile(ctx, id); return err },
			"activation": func(c *api.Client, id string) error { _, err := c.SendClinicianMobileActivation(ctx, id); return err },
			"reset":      func(c *api.Client, id string) error { _, err := c.ResetClinicianMobile(ctx, id); return err },
			"sessions":   func(c *api.Client, id string) error { return c.EndClinicianMobileSessions(ctx, id) },
		}
		for name, call := range calls {
			if err := call(manager, clin.ID); !api.IsCode(err, api.CodeForbidden) {
				t.Errorf("%s as assigning manager: %v, want forbidden", name, err)
			}
			if err := call(super, emp.ID); !api.IsCode(err, api.CodeNotFound) {
				t.Errorf("%s on an employee: %v, want not found", name, err)
			}
			if err := call(super, "nobody"); !api.IsCode(err, api.CodeNotFound) {
				t.Errorf("%s on an unknown id: %v, want not found", name, err)
			}
		}
		if n := len(f.audit(clin.ID)); n != 0 {
			t.Fatalf("refused calls left %d audit entries", n)
		}

		disabled := f.user(storage.UserTypeClinician, storage.StatusDisabled)
		if _, err := super.SendClinicianMobileActivation(ctx, disabled.ID); !api.IsCode(err, api.CodeInvalidState) {
			t.Fatalf("activation of a disabled clinician: %v", err)
		}
		f.mobile.SMS = false
		if _, err := super.SendClinicianMobileActivation(ctx, clin.ID); !api.IsCode(err, api.CodeUnavailable) {
			t.Fatalf("activation without an SMS gateway: %v", err)
		}
		var e *api.Error
		if _, err := super.SendClinicianMobileActivation(ctx, clin.ID); !errors.As(err, &e) || e.Status != 503 {
			t.Fatalf("status %v", err)
		}
	})
}

// An admin changing a clinician's phone (PATCH) ends the clinician's
// mobile sign-ins and PIN in the same transaction, sends a notice, and does
// not make the new number verified.
func TestAdminPhoneChangeRevokesMobile(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		admin := f.active(storage.UserTypeEmployee, storage.RoleAdmin)
		c := f.client(admin)
		clin := f.active(storage.UserTypeClinician)
		if _, err := c.SendClinicianMobileActivation(ctx, clin.ID); err != nil {
			t.Fatal(err)
		}
		ticket, err := f.mobile.VerifyActivationCode(ctx, clin.Phone, f.lastSMSCode(clin.Phone), "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.mobile.SetPIN(ctx, ticket, "583920", ""); err != nil {
			t.Fatal(err)
		}
		phoneTok, emailTok := f.mobileGrants(clin)

		// Another field alone changes nothing of the credential.
		title := "Charge nurse"
		upd, err := c.UpdateClinician(ctx, clin.ID, clin.Version, api.ClinicianUpdate{JobTitle: &title})
		if err != nil {
			t.Fatal(err)
		}
		if f.revoked(phoneTok) {
			t.Fatal("a job title change revoked the mobile sign-in")
		}
		newPhone := f.phone()
		upd, err = c.UpdateClinician(ctx, clin.ID, upd.Version, api.ClinicianUpdate{Phone: &newPhone})
		if err != nil || upd.Phone != newPhone {
			t.Fatalf("UpdateClinician = %+v, %v", upd, err)
		}
		if !f.revoked(phoneTok) || f.revoked(emailTok) {
			t.Fatalf("after the phone change: phone token revoked %v, email token revoked %v", f.revoked(phoneTok), f.revoked(emailTok))
		}
		got, err := c.GetClinicianMobile(ctx, clin.ID)
		if err != nil || got.State != api.MobileNone || got.PhoneVerified || got.Phone != newPhone {
			t.Fatalf("credential after the phone change: %+v, %v", got, err)
		}
		notices := f.messages(clin.Email)
		if len(notices) == 0 || notices[len(notices)-1].Subject != "The mobile number of your CliniConnects account was changed" {
			t.Fatalf("notices %+v", notices)
		}
		var phoneAudit bool
		for _, e := range f.audit(clin.ID) {
			if e.Action == api.ActionClinicianUpdate && e.ActorID == admin.ID && e.Changes["phone"][1] == newPhone {
				phoneAudit = true
			}
		}
		if !phoneAudit {
			t.Fatal("the phone change is not audited")
		}
		// The new number activates.
		if _, err := c.SendClinicianMobileActivation(ctx, clin.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.mobile.VerifyActivationCode(ctx, newPhone, f.lastSMSCode(newPhone), ""); err != nil {
			t.Fatal(err)
		}
	})
}

// A phone sign-in client keeps admitting clinicians only, whatever an
// update asks.
func TestPhoneClientAdmitsCliniciansOnly(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		super := f.client(f.active(storage.UserTypeEmployee, storage.RoleSuperAdmin))
		cl, err := f.store.CreateClient(ctx, storage.Client{ID: "mobile", Public: true, SignInMethod: storage.SignInPhone,
			RedirectURIs: []string{"com.cliniconnects.mobile:/callback"}, AdmitTypes: []storage.UserType{storage.UserTypeClinician},
			GrantTypes: []string{storage.GrantAuthorizationCode, storage.GrantRefreshToken}})
		if err != nil {
			t.Fatal(err)
		}
		types := []api.UserType{api.UserTypeEmployee}
		_, err = super.UpdateClient(ctx, cl.ID, cl.UpdatedAt.UnixMicro(), api.OIDCClientUpdate{AdmitTypes: &types})
		var e *api.Error
		if !errors.As(err, &e) || e.Code != api.CodeValidation || e.Fields["sign_in_method"] == "" {
			t.Fatalf("admitting employees to a phone client: %v", err)
		}
		name := "Clinician app"
		if _, err := super.UpdateClient(ctx, cl.ID, cl.UpdatedAt.UnixMicro(), api.OIDCClientUpdate{Name: &name}); err != nil {
			t.Fatal(err)
		}
		got, err := f.store.GetClient(ctx, cl.ID)
		if err != nil || !got.PhoneSignIn() || !slices.Equal(got.AdmitTypes, []storage.UserType{storage.UserTypeClinician}) {
			t.Fatalf("after a rename: %+v, %v", got, err)
		}
	})
}
