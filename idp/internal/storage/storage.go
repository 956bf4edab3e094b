package storage

import (
	"context"
	"time"
)

// Storage is everything the provider keeps. Every method is safe for
// concurrent use by many goroutines and by several processes sharing one
// database; every state change is atomic.
type Storage interface {
	// Lifecycle: one-time tokens, the outbox, the audit log and InTx.
	Lifecycle
	// Mobile: clinicians' mobile credentials, SMS codes, phone sign-ins.
	Mobile
	// MFA: TOTP secrets and recovery codes.
	MFA

	// Close releases the backend's resources.
	Close() error
	// Ready returns nil when the store is reachable and fully migrated,
	// ErrNotMigrated (wrapped) when the schema is behind.
	Ready(ctx context.Context) error

	// CreateUser inserts u. ID, CreatedAt, UpdatedAt and Version are set by
	// the backend when zero/empty and returned. A taken email or phone gives
	// ErrEmailInUse or ErrPhoneInUse.
	CreateUser(ctx context.Context, u User) (User, error)
	GetUser(ctx context.Context, id string) (User, error)
	// GetUserByEmail matches case-insensitively.
	GetUserByEmail(ctx context.Context, email string) (User, error)
	GetUserByPhone(ctx context.Context, phone string) (User, error)
	// ListUsers returns one page and the cursor of the next ("" at the end).
	ListUsers(ctx context.Context, q UserQuery) (users []User, next string, err error)
	CountUsers(ctx context.Context) (int, error)
	// UpdateUser reads the user, applies fn and writes the result if the
	// version is still the one read (and equals wantVersion when that is
	// not 0). A stale version gives ErrConflict; fn's error is returned as is
	// and nothing is written. ID, CreatedAt and Version are not fn's to set.
	UpdateUser(ctx context.Context, id string, wantVersion int64, fn func(*User) error) (User, error)

	CreateClient(ctx context.Context, c Client) (Client, error)
	GetClient(ctx context.Context, id string) (Client, error)
	// GetClientThrottleToken is GetClient(clientID), GetThrottle(key) and,
	// when tokenID is not "", GetAccessTokenUser(tokenID) in one round trip,
	// for client authentication (introspection also reads the token it is
	// asked about): whatever is missing is its zero value (empty ID), the
	// user also when the token's subject is no user.
	GetClientThrottleToken(ctx context.Context, clientID, key, tokenID string) (Client, Throttle, AccessToken, User, error)
	ListClients(ctx context.Context) ([]Client, error)
	UpdateClient(ctx context.Context, id string, fn func(*Client) error) (Client, error)
	DeleteClient(ctx context.Context, id string) error

	CreateAuthRequest(ctx context.Context, r AuthRequest) error
	GetAuthRequest(ctx context.Context, id string) (AuthRequest, error)
	// GetAuthRequestClient is GetAuthRequest(id) and GetClient of the
	// request's client in one round trip, for the sign-in pages and the
	// callback: the client is the zero Client (empty ID) when there is none.
	GetAuthRequestClient(ctx context.Context, id string) (AuthRequest, Client, error)
	// CompleteAuthRequest records who authenticated; ErrNotFound when the
	// request is gone or expired.
	CompleteAuthRequest(ctx context.Context, id string, res AuthResult) error
	// SetAuthRequestCode stores the hash of the code issued for a completed
	// request. A request gets one code: ErrNotFound when it is not completed
	// or already has one.
	SetAuthRequestCode(ctx context.Context, id, codeHash string) error
	// GetAuthRequestByCode finds an unexpired request by code hash,
	// redeemed or not.
	GetAuthRequestByCode(ctx context.Context, codeHash string) (AuthRequest, error)
	// RedeemCode marks the code as exchanged into token family familyID.
	// Exactly one caller wins; every later call revokes the family's refresh
	// and access tokens and returns ErrReused.
	RedeemCode(ctx context.Context, codeHash, familyID string, now time.Time) (AuthRequest, error)
	DeleteAuthRequest(ctx context.Context, id string) error

	CreateSession(ctx context.Context, s Session) error
	// GetSession returns a session that is neither revoked nor expired at now.
	GetSession(ctx context.Context, idHash string, now time.Time) (Session, error)
	TouchSession(ctx context.Context, idHash string, now time.Time) error
	RevokeSession(ctx context.Context, idHash string, now time.Time) error
	// AddSessionClient records that the session completed a sign-in for
	// the client; recording it again is not an error.
	AddSessionClient(ctx context.Context, idHash, clientID string) error
	// SessionHasClient reports whether the session completed a sign-in for
	// the client before.
	SessionHasClient(ctx context.Context, idHash, clientID string) (bool, error)

	CreateAccessToken(ctx context.Context, t AccessToken) error
	GetAccessToken(ctx context.Context, id string) (AccessToken, error)
	// GetAccessTokenUser is GetAccessToken and GetUser(token.Subject) in
	// one round trip less: the user is the zero User (empty ID) when the
	// subject is no user (a client_credentials token, a deleted user).
	GetAccessTokenUser(ctx context.Context, id string) (AccessToken, User, error)
	RevokeAccessToken(ctx context.Context, id string, now time.Time) error

	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// GetRefreshToken returns the token whatever its state; callers check
	// RotatedAt, RevokedAt and ExpiresAt. RevokedAt is also set when the
	// token's family was revoked (GetAccessToken likewise).
	GetRefreshToken(ctx context.Context, idHash string) (RefreshToken, error)
	// GetRefreshTokenUser is GetRefreshToken and GetUser(token.UserID) in
	// one round trip: the user is the zero User (empty ID) when it is gone.
	GetRefreshTokenUser(ctx context.Context, idHash string) (RefreshToken, User, error)
	// RotateRefreshToken atomically marks oldHash rotated and stores next
	// and access, the access token issued with it, both in the old token's
	// family. A token rotated less than reuseWindow ago whose successor is
	// still unused may be rotated again (a client retrying a refresh whose
	// answer it lost): its successor is revoked and next takes its place.
	// Any other presentation of a rotated or revoked token revokes the
	// whole family (refresh and access tokens) and returns ErrReused; an
	// unknown or expired token returns ErrNotFound. A refused rotation
	// stores neither next nor access.
	RotateRefreshToken(ctx context.Context, oldHash string, next RefreshToken, access AccessToken, now time.Time, reuseWindow time.Duration) error
	RevokeRefreshToken(ctx context.Context, idHash string, now time.Time) error
	// RevokeFamily revokes every refresh and access token of a family,
	// including any stored later: the family stays revoked, so a token
	// written concurrently with the revocation (the winner of a code
	// exchange still issuing) reads back revoked and cannot be rotated.
	RevokeFamily(ctx context.Context, familyID string, now time.Time) error
	// RevokeUserGrants revokes every session, refresh token and access token
	// of a user and voids every open one-time link of theirs, whatever its
	// purpose (sign out everywhere, disable, password reset or change, email
	// change): a link sent before cannot undo what the revocation secured.
	// The families of the tokens it revokes stay revoked, as with
	// RevokeFamily: a successor a concurrent refresh stores later reads
	// back revoked.
	RevokeUserGrants(ctx context.Context, userID string, now time.Time) error

	CreateSigningKey(ctx context.Context, k SigningKey) error
	// ListSigningKeys returns keys not yet expired at now, oldest first.
	ListSigningKeys(ctx context.Context, now time.Time) ([]SigningKey, error)
	// UpdateSigningKeyExpiry sets when a key leaves the JWKS.
	UpdateSigningKeyExpiry(ctx context.Context, id string, expireAt time.Time) error

	// RecordFailure counts one failed attempt for key (see Failure).
	RecordFailure(ctx context.Context, key string, f Failure) (Throttle, error)
	// GetThrottle returns the key's counter, or a zero Throttle with the key
	// set when there is none.
	GetThrottle(ctx context.Context, key string) (Throttle, error)
	ResetThrottle(ctx context.Context, key string) error

	// DeleteExpired removes auth requests, sessions, tokens (one-time
	// tokens included) and throttles that expired before now, and returns
	// how many rows went. The record of revoked families stays.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
}
