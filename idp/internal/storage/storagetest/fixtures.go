package storagetest

import (
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// employee is a valid user to create; tests change what they need.
func employee(given, family, email string) storage.User {
	return storage.User{
		Type:       storage.UserTypeEmployee,
		GivenName:  given,
		FamilyName: family,
		Email:      email,
		Status:     storage.StatusActive,
		JobTitle:   "Scheduler",
		Department: "Intake",
	}
}

func clinician(given, family, email, phone string) storage.User {
	return storage.User{
		Type:          storage.UserTypeClinician,
		GivenName:     given,
		FamilyName:    family,
		Email:         email,
		EmailVerified: true,
		Phone:         phone,
		Status:        storage.StatusActive,
		Discipline:    "RN",
	}
}

func createUser(t *testing.T, s storage.Storage, u storage.User) storage.User {
	t.Helper()
	got, err := s.CreateUser(t.Context(), u)
	if err != nil {
		t.Fatalf("CreateUser(%s): %v", u.Email, err)
	}
	return got
}

// webClient is a confidential client with every list set.
func webClient(id string) storage.Client {
	return storage.Client{
		ID:                     id,
		Name:                   "Scheduling",
		SecretHash:             "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA",
		RedirectURIs:           []string{"https://sched.example.org/callback", "https://sched.example.org/cb2"},
		PostLogoutRedirectURIs: []string{"https://sched.example.org/"},
		GrantTypes:             []string{storage.GrantAuthorizationCode, storage.GrantRefreshToken},
		AdmitRoles:             []storage.Role{storage.RoleAdmin},
		AdmitTypes:             []storage.UserType{storage.UserTypeEmployee},
		Scopes:                 []string{"admin"},
		RequireMFA:             true,
		CreatedAt:              base,
		UpdatedAt:              base,
	}
}

func createClient(t *testing.T, s storage.Storage, id string) storage.Client {
	t.Helper()
	c, err := s.CreateClient(t.Context(), webClient(id))
	if err != nil {
		t.Fatalf("CreateClient(%s): %v", id, err)
	}
	return c
}

// grantFixture is a client and a user that tokens and sessions can name.
type grantFixture struct {
	client storage.Client
	user   storage.User
}

func newGrantFixture(t *testing.T, s storage.Storage) grantFixture {
	t.Helper()
	return grantFixture{
		client: createClient(t, s, "sched"),
		user:   createUser(t, s, employee("Ann", "Lee", "ann@example.org")),
	}
}

func (f grantFixture) refresh(idHash, family string, expires time.Time) storage.RefreshToken {
	return storage.RefreshToken{
		IDHash:    idHash,
		FamilyID:  family,
		ClientID:  f.client.ID,
		UserID:    f.user.ID,
		Scopes:    []string{"openid", "offline_access"},
		Audience:  []string{f.client.ID},
		AuthTime:  base.Add(-time.Minute),
		AMR:       []string{"pwd"},
		CreatedAt: base,
		ExpiresAt: expires,
	}
}

func (f grantFixture) access(id, family string, expires time.Time) storage.AccessToken {
	return storage.AccessToken{
		ID:        id,
		FamilyID:  family,
		ClientID:  f.client.ID,
		Subject:   f.user.ID,
		Audience:  []string{f.client.ID},
		Scopes:    []string{"openid"},
		CreatedAt: base,
		ExpiresAt: expires,
	}
}

// accessFor is the access token issued with the successor nextHash, "at-"
// and its hash: RotateRefreshToken stores it in the rotated token's family.
func (f grantFixture) accessFor(nextHash string) storage.AccessToken {
	return f.access("at-"+nextHash, "", base.Add(2*time.Hour))
}

func (f grantFixture) session(idHash string, expires time.Time) storage.Session {
	return storage.Session{
		IDHash:     idHash,
		UserID:     f.user.ID,
		AuthTime:   base,
		AMR:        []string{"pwd", "otp"},
		CreatedAt:  base,
		LastSeenAt: base,
		ExpiresAt:  expires,
	}
}

// authRequest is a fresh request of the fixture's client, expiring a
// quarter of an hour after created (by the wall clock: the store checks
// expiry against its own clock).
func (f grantFixture) authRequest(id string, created time.Time) storage.AuthRequest {
	return storage.AuthRequest{
		ID:                  id,
		ClientID:            f.client.ID,
		RedirectURI:         f.client.RedirectURIs[0],
		State:               "st-" + id,
		Nonce:               "n-" + id,
		Scopes:              []string{"openid", "email", "offline_access"},
		ResponseType:        "code",
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256",
		CreatedAt:           created,
		ExpiresAt:           created.Add(15 * time.Minute),
	}
}
