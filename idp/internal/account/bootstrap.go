package account

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Bootstrap creates the first super admin when the store has no users, with
// a random password that the caller shows once. created is false when the
// store already had users (or another replica won the race).
func (s *Service) Bootstrap(ctx context.Context, email string) (u storage.User, pw string, created bool, err error) {
	n, err := s.Store.CountUsers(ctx)
	if err != nil || n > 0 {
		return storage.User{}, "", false, err
	}
	pw = RandomPassword()
	u, err = s.CreateUser(ctx, NewUser{
		Email: email, GivenName: "Initial", FamilyName: "Administrator",
		Type: storage.UserTypeEmployee, Roles: []storage.Role{storage.RoleSuperAdmin}, Password: pw,
	})
	if errors.Is(err, storage.ErrEmailInUse) {
		return storage.User{}, "", false, nil
	}
	if err != nil {
		return storage.User{}, "", false, fmt.Errorf("bootstrap super admin: %w", err)
	}
	return u, pw, true, nil
}

// RandomPassword returns 120 bits from crypto/rand as five groups of five
// characters from an alphabet without look-alikes (ambiguous 0/O, 1/l/I).
func RandomPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789" // 32 symbols, 5 bits each
	b := make([]byte, 25)
	_, _ = rand.Read(b)
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%5 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(alphabet[c&31])
	}
	return sb.String()
}
