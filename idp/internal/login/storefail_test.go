package login_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// errDB looks like what a broken database says; none of it may reach a page.
var errDB = errors.New(`pq: relation "users" does not exist: SELECT id, password_hash FROM users WHERE email = $1 (sqlstore/users.go:97)`)

// failingStore passes every call through except the method named fail.
type failingStore struct {
	storage.Storage
	fail string
}

func (s *failingStore) err(method string) error {
	if s.fail == method {
		return errDB
	}
	return nil
}

func (s *failingStore) GetAuthRequest(ctx context.Context, id string) (storage.AuthRequest, error) {
	if err := s.err("GetAuthRequest"); err != nil {
		return storage.AuthRequest{}, err
	}
	return s.Storage.GetAuthRequest(ctx, id)
}

// GetAuthRequestClient fails as GetAuthRequest or GetClient would: it
// stands for both reads.
func (s *failingStore) GetAuthRequestClient(ctx context.Context, id string) (storage.AuthRequest, storage.Client, error) {
	if err := errors.Join(s.err("GetAuthRequest"), s.err("GetClient")); err != nil {
		return storage.AuthRequest{}, storage.Client{}, err
	}
	return s.Storage.GetAuthRequestClient(ctx, id)
}

func (s *failingStore) GetClient(ctx context.Context, id string) (storage.Client, error) {
	if err := s.err("GetClient"); err != nil {
		return storage.Client{}, err
	}
	return s.Storage.GetClient(ctx, id)
}

func (s *failingStore) GetUser(ctx context.Context, id string) (storage.User, error) {
	if err := s.err("GetUser"); err != nil {
		return storage.User{}, err
	}
	return s.Storage.GetUser(ctx, id)
}

func (s *failingStore) GetUserByEmail(ctx context.Context, email string) (storage.User, error) {
	if err := s.err("GetUserByEmail"); err != nil {
		return storage.User{}, err
	}
	return s.Storage.GetUserByEmail(ctx, email)
}

func (s *failingStore) SessionHasClient(ctx context.Context, idHash, clientID string) (bool, error) {
	if err := s.err("SessionHasClient"); err != nil {
		return false, err
	}
	return s.Storage.SessionHasClient(ctx, idHash, clientID)
}

func (s *failingStore) AddSessionClient(ctx context.Context, idHash, clientID string) error {
	if err := s.err("AddSessionClient"); err != nil {
		return err
	}
	return s.Storage.AddSessionClient(ctx, idHash, clientID)
}

func (s *failingStore) CompleteAuthRequest(ctx context.Context, id string, res storage.AuthResult) error {
	if err := s.err("CompleteAuthRequest"); err != nil {
		return err
	}
	return s.Storage.CompleteAuthRequest(ctx, id, res)
}

func (s *failingStore) CreateSession(ctx context.Context, ses storage.Session) error {
	if err := s.err("CreateSession"); err != nil {
		return err
	}
	return s.Storage.CreateSession(ctx, ses)
}

func (s *failingStore) GetSession(ctx context.Context, idHash string, now time.Time) (storage.Session, error) {
	if err := s.err("GetSession"); err != nil {
		return storage.Session{}, err
	}
	return s.Storage.GetSession(ctx, idHash, now)
}

func (s *failingStore) RevokeSession(ctx context.Context, idHash string, now time.Time) error {
	if err := s.err("RevokeSession"); err != nil {
		return err
	}
	return s.Storage.RevokeSession(ctx, idHash, now)
}

func (s *failingStore) GetThrottle(ctx context.Context, key string) (storage.Throttle, error) {
	if err := s.err("GetThrottle"); err != nil {
		return storage.Throttle{}, err
	}
	return s.Storage.GetThrottle(ctx, key)
}

func (s *failingStore) RecordFailure(ctx context.Context, key string, f storage.Failure) (storage.Throttle, error) {
	if err := s.err("RecordFailure"); err != nil {
		return storage.Throttle{}, err
	}
	return s.Storage.RecordFailure(ctx, key, f)
}

// No page shows SQL, Go error text or a file name when the store fails: the
// user gets a fixed message, the log gets the detail.
func TestStoreFailuresShowNoDetails(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		tests := []struct {
			method     string
			withSess   bool   // sign in first, so the browser has a session
			post       string // password to POST; "" means GET the form
			wantStatus int
		}{
			{"GetAuthRequest", false, "", 500},
			{"GetAuthRequest", false, userPassword, 500},
			{"GetClient", false, "", 500},
			{"GetUser", true, "", 500},
			{"GetSession", true, "", 200}, // no session can be read: the form
			{"CompleteAuthRequest", true, "", 500},
			{"CompleteAuthRequest", false, userPassword, 500},
			{"SessionHasClient", true, "", 500},
			{"AddSessionClient", true, "", 500},
			{"GetThrottle", false, userPassword, 500},
			{"RecordFailure", false, userPassword, 500},
			{"GetUserByEmail", false, userPassword, 500},
			{"CreateSession", false, userPassword, 500},
			{"RevokeSession", true, userPassword, 500},
		}
		fs := &failingStore{Storage: st}
		e := newEnv(t, fs)
		for _, tc := range tests {
			name := tc.method + map[bool]string{true: " POST", false: " GET"}[tc.post != ""]
			t.Run(name, func(t *testing.T) {
				fs.fail = ""
				e.browser = newBrowser(t)
				e.bindBrowser(e.browser)
				if tc.withSess {
					e.signIn()
				}
				r := e.authRequest(e.client, withPrompt(map[bool]string{true: "login", false: ""}[tc.post != "" && tc.withSess]))
				fs.fail = tc.method
				defer func() { fs.fail = "" }()
				var res response
				if tc.post != "" {
					res = e.postLogin(r.ID, userEmail, tc.post)
				} else {
					res = e.getLogin(r.ID)
				}
				if res.status != tc.wantStatus {
					t.Errorf("status %d, want %d", res.status, tc.wantStatus)
				}
				if tc.wantStatus == http.StatusInternalServerError && !strings.Contains(res.body, "We could not complete your request. Please try again in a few minutes.") {
					t.Errorf("no generic message:\n%s", res.body)
				}
				assertSafePage(t, res)
				for _, leak := range []string{"pq:", "relation", "SELECT", "password_hash", "sqlstore", ".go", "does not exist", "signin:", "session:", "login:", "storage:"} {
					if strings.Contains(res.body, leak) {
						t.Errorf("page shows %q:\n%s", leak, res.body)
					}
				}
			})
		}
	})
}
